#include <switchboard/core/delivery/rate_limiter.hpp>

#include <algorithm>
#include <cmath>

namespace switchboard::core::delivery {

namespace {

/// GSM 03.38: the basic character set (one septet) and the extension table (escape + septet).
bool gsm_basic(char32_t c) {
    static const std::u32string basic =
        U"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
        U"¿abcdefghijklmnopqrstuvwxyzäöñüà";
    return basic.find(c) != std::u32string::npos;
}
bool gsm_extension(char32_t c) {
    static const std::u32string ext = U"^{}\\[~]|€\f";
    return ext.find(c) != std::u32string::npos;
}

/// Decodes UTF-8 leniently (a malformed byte counts as U+FFFD).
std::u32string decode(std::string_view s) {
    std::u32string out;
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > s.size()) {
            out.push_back(0xFFFD);
            ++i;
            continue;
        }
        char32_t cp = n == 1 ? c : c & (0x7F >> n);
        for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        out.push_back(cp);
        i += n;
    }
    return out;
}

}  // namespace

int64_t sms_segments(std::string_view text) {
    auto cps = decode(text);
    int64_t septets = 0;
    bool gsm = true;
    for (char32_t c : cps) {
        if (gsm_basic(c)) septets += 1;
        else if (gsm_extension(c)) septets += 2;
        else gsm = false;
    }
    if (gsm) return septets <= 160 ? 1 : (septets + 152) / 153;
    int64_t units = 0;
    for (char32_t c : cps) units += c > 0xFFFF ? 2 : 1;
    return units <= 70 ? 1 : (units + 66) / 67;
}

int64_t rate_limiter::acquire(const std::string& key, const std::vector<resolved_rate_limit>& limits,
                              std::string_view recipient, std::string_view text, int64_t now_ms, std::string* which) {
    struct need {
        std::string id;
        double capacity, per_ms_token, cost;
    };
    std::vector<need> needs;
    for (auto& l : limits) {
        if (l.rate.count <= 0) continue;
        if (!l.recipient_prefix.empty() && recipient.substr(0, l.recipient_prefix.size()) != l.recipient_prefix) continue;
        std::string id = key + "\x1f" + l.setting;
        if (l.scope == SB_RATE_RECIPIENT) id += "\x1f" + std::string(recipient);
        double capacity = static_cast<double>(l.rate.count);
        double cost = l.unit == SB_RATE_SMS_SEGMENTS ? static_cast<double>(sms_segments(text)) : 1.0;
        needs.push_back({std::move(id), capacity, static_cast<double>(l.rate.per_ms) / capacity, std::min(cost, capacity)});
    }
    if (needs.empty()) return 0;
    std::lock_guard lk(mu_);
    int64_t wait = 0;
    std::string longest;
    for (auto& n : needs) {
        auto [it, fresh] = buckets_.try_emplace(n.id, bucket{n.capacity, now_ms});
        auto& b = it->second;
        if (!fresh) {
            b.tokens = std::min(n.capacity, b.tokens + static_cast<double>(std::max<int64_t>(0, now_ms - b.updated_ms)) /
                                                          n.per_ms_token);
            b.updated_ms = std::max(b.updated_ms, now_ms);
        }
        refill_ms_[n.id] = static_cast<int64_t>(std::ceil(n.capacity * n.per_ms_token));
        if (b.tokens + 1e-9 < n.cost) {
            auto w = static_cast<int64_t>(std::ceil((n.cost - b.tokens) * n.per_ms_token));
            if (w > wait) {
                wait = w;
                longest = n.id.substr(key.size() + 1, n.id.find('\x1f', key.size() + 1) - key.size() - 1);
            }
        }
    }
    if (wait > 0) {
        if (which) *which = longest;
        return wait;
    }
    for (auto& n : needs) buckets_[n.id].tokens -= n.cost;
    if (buckets_.size() > 10'000) prune(now_ms);
    return 0;
}

void rate_limiter::prune(int64_t now_ms) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
        auto refill = refill_ms_.find(it->first);
        bool idle = refill == refill_ms_.end() || now_ms - it->second.updated_ms > refill->second;
        if (idle) {
            if (refill != refill_ms_.end()) refill_ms_.erase(refill);
            it = buckets_.erase(it);
        } else {
            ++it;
        }
    }
}

size_t rate_limiter::size() const {
    std::lock_guard lk(mu_);
    return buckets_.size();
}

}  // namespace switchboard::core::delivery
