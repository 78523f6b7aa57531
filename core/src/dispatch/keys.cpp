// Lanes and idempotency keys of jobs.
#include <switchboard/core/dispatch/keys.hpp>

#include <switchboard/sdk/events.hpp>

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
