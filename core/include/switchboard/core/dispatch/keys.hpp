// switchboard/core/dispatch/keys.hpp — lanes and idempotency keys of jobs, in one place.
//
// A lane orders jobs: at most one job of a lane runs at a time, in id order. An idempotency key
// makes creating a job a no-op when it already exists (a route job re-run after a crash creates
// the same commands, not new ones).
#pragma once

#include <switchboard/core/config/config.hpp>
#include <switchboard/core/store/store.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::core::dispatch {

/// Route jobs of one conversation's inbound messages run in order: "conv:<conversation id>".
std::string conversation_lane(int64_t conversation_id);
/// Route jobs of events outside a conversation each run on their own: "event:<event id>".
std::string event_lane(int64_t event_id);
/// Replies (message.send) of one conversation leave in order: "send:<conversation id>".
std::string send_lane(int64_t conversation_id);
/// The lane of a command: replies on their conversation's send lane; any other command on a lane
/// of its target plugin, per conversation when it has one — "cmd:<tenant>:<target>:<conversation
/// id>" or "cmd:<tenant>:<target>" — so a retrying CRM call or notification never holds up a
/// reply, nor another target's commands, while one target's commands stay in order.
/// `target`: the plugin that executes it (the command's "plugin", else its "channel").
std::string command_lane(const std::string& tenant, std::string_view type, const std::string& target,
                         int64_t conversation_id);

/// The route job of a filed event: "route:<event id>".
std::string route_key(int64_t event_id);
/// The k-th command (0-based) emitted by stage number `stage_index` (1-based, across the tenant's
/// routes) of route job `route_job_id`: "cmd:<job>:<stage>:<k>".
std::string command_key(int64_t route_job_id, int stage_index, int k);

/// How deep events may chain (a stage's event routed to a stage that emits an event...): an event
/// emitted deeper is stored but not routed, and the loop is logged.
inline constexpr int max_chain_depth = 8;

/// The lane and idempotency key of the route job for a filed event (conversation lane when the
/// event belongs to a conversation, else its own lane), or nullopt when it is chained deeper than
/// max_chain_depth (logged as an error naming tenant, event and type: the routes form a loop).
std::optional<route_job_spec> route_job_for(const filed_event& event);

/// The route job a filed event starts under `cfg`: nullopt when the event's tenant has no route
/// `on` its type, else route_job_for(event). What ingest and route completion hand the store
/// (store::options::route_job).
std::optional<route_job_spec> route_job_for(const config& cfg, const filed_event& event);

}  // namespace switchboard::core::dispatch
