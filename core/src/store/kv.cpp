// Per-tenant, per-plugin key/value state with expiry (token caches...).
#include "sql_store.hpp"

namespace switchboard::core::store_detail {

std::optional<std::string> sql_store::kv_get(const std::string& tenant, const std::string& plugin, const std::string& key,
                                  int64_t now_ms) {
    soci::session s(*pool_);
    std::string v;
    s << "SELECT v FROM kv WHERE tenant = :t AND plugin = :p AND k = :k AND (expires_at_ms IS NULL OR expires_at_ms > :n)",
        soci::use(tenant), soci::use(plugin), soci::use(key), soci::use(now_ms), soci::into(v);
    if (!s.got_data()) return std::nullopt;
    return v;
}

void sql_store::kv_put(const std::string& tenant, const std::string& plugin, const std::string& key, const std::string& value,
            std::optional<int64_t> expires_at_ms) {
    soci::session s(*pool_);
    long long exp = expires_at_ms.value_or(0);
    soci::indicator ind = expires_at_ms ? soci::i_ok : soci::i_null;
    s << "INSERT INTO kv (tenant, plugin, k, v, expires_at_ms) VALUES (:t, :p, :k, :v, :e) "
         "ON CONFLICT (tenant, plugin, k) DO UPDATE SET v = excluded.v, expires_at_ms = excluded.expires_at_ms",
        soci::use(tenant), soci::use(plugin), soci::use(key), soci::use(value), soci::use(exp, ind);
}
}  // namespace switchboard::core::store_detail
