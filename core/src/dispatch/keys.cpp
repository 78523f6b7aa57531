// Lanes and idempotency keys of jobs.
#include <switchboard/core/dispatch/keys.hpp>

namespace switchboard::core::dispatch {

std::string conversation_lane(int64_t conversation_id) { return "conv:" + std::to_string(conversation_id); }
std::string event_lane(int64_t event_id) { return "event:" + std::to_string(event_id); }
std::string send_lane(int64_t conversation_id) { return "send:" + std::to_string(conversation_id); }
std::string tenant_command_lane(const std::string& tenant) { return "cmd:" + tenant; }

std::string route_key(int64_t event_id) { return "route:" + std::to_string(event_id); }

std::string command_key(int64_t route_job_id, int stage_index, int k) {
    return "cmd:" + std::to_string(route_job_id) + ":" + std::to_string(stage_index) + ":" + std::to_string(k);
}

route_job_spec route_job_for(const filed_event& event) {
    return {event.conversation_id > 0 ? conversation_lane(event.conversation_id) : event_lane(event.event_id),
            route_key(event.event_id)};
}

}  // namespace switchboard::core::dispatch
