// Lanes and idempotency keys of jobs.
#include <switchboard/core/dispatch/keys.hpp>

#include <switchboard/sdk/events.hpp>

#include <boost/json.hpp>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace switchboard::core::dispatch {

std::string conversation_lane(int64_t conversation_id) { return "conv:" + std::to_string(conversation_id); }
std::string event_lane(int64_t event_id) { return "event:" + std::to_string(event_id); }
std::string send_lane(int64_t conversation_id) { return "send:" + std::to_string(conversation_id); }
std::string command_lane(const std::string& tenant, std::string_view type, const std::string& target,
                         int64_t conversation_id) {
    if (type == sdk::events::message_send && conversation_id > 0) return send_lane(conversation_id);
    std::string lane = "cmd:" + tenant + ":" + target;
    return conversation_id > 0 ? lane + ":" + std::to_string(conversation_id) : lane;
}

namespace {
std::string sha256_hex(const std::string& data, size_t hex_digits) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n && out.size() < hex_digits; ++i) {
        out.push_back(hex[md[i] >> 4]);
        out.push_back(hex[md[i] & 15]);
    }
    return out;
}
}  // namespace

std::string origin_key(const boost::json::object& event) {
    for (const char* field : {"dedupe_key", "provider_message_id", "origin_key"})
        if (auto* v = event.if_contains(field); v && v->is_string() && !v->as_string().empty())
            return std::string(v->as_string());
    boost::json::object stable = event;
    for (const char* host_field : {"event_id", "conversation_id", "message_id", "conversation", "chain_depth"})
        stable.erase(host_field);
    return "sha256:" + sha256_hex(boost::json::serialize(stable), 64);
}

std::string idempotency_key(const std::string& tenant, const std::string& origin, const std::string& what) {
    return sha256_hex(tenant + '\n' + origin + '\n' + what, 32);
}

std::string command_target(const boost::json::object& command) {
    for (const char* field : {"instance", "plugin", "channel"})
        if (auto* v = command.if_contains(field); v && v->is_string() && !v->as_string().empty())
            return std::string(v->as_string());
    return "";
}

std::string route_key(int64_t event_id) { return "route:" + std::to_string(event_id); }

std::string command_key(int64_t route_job_id, int stage_index, int k) {
    return "cmd:" + std::to_string(route_job_id) + ":" + std::to_string(stage_index) + ":" + std::to_string(k);
}

std::optional<route_job_spec> route_job_for(const filed_event& event) {
    if (event.chain_depth > max_chain_depth) {
        spdlog::error("[tenant={}] event {} ({}) is not routed: it was emitted {} stages deep, past the limit of {}; "
                      "the tenant's routes form a loop",
                      event.tenant, event.event_id, event.type, event.chain_depth, max_chain_depth);
        return std::nullopt;
    }
    return route_job_spec{event.conversation_id > 0 ? conversation_lane(event.conversation_id) : event_lane(event.event_id),
                          route_key(event.event_id)};
}

std::optional<route_job_spec> route_job_for(const config& cfg, const filed_event& event) {
    auto tenant = cfg.find_tenant(event.tenant);
    if (!tenant || std::none_of(tenant->routes.begin(), tenant->routes.end(),
                                [&](const route_config& r) { return r.on == event.type; }))
        return std::nullopt;
    return route_job_for(event);
}

}  // namespace switchboard::core::dispatch
