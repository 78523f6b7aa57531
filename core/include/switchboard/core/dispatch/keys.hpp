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

namespace boost::json {
class object;
}

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

/// The instance that executes a command: its "instance", else "plugin", else "channel".
std::string command_target(const boost::json::object& command);

/// The route job of a filed event: "route:<event id>".
std::string route_key(int64_t event_id);
/// The k-th command (0-based) emitted by stage number `stage_index` (1-based, across the tenant's
/// routes) of route job `route_job_id`: "cmd:<job>:<stage>:<k>".
std::string command_key(int64_t route_job_id, int stage_index, int k);

/// What an event originates from, stable across restarts and databases: its "dedupe_key", else
/// its "provider_message_id", else the "origin_key" it inherited from the event that caused it,
/// else a SHA-256 of the event without the fields the host adds when filing (ids, chain depth).
std::string origin_key(const boost::json::object& event);

/// The idempotency key of a plugin call: 32 hex digits of SHA-256 over the tenant, the event's
/// origin key and `what` (e.g. "stage:2:templates.reply" or "cmd:2:templates.reply:0"). The same
/// event yields the same keys on every retry, after a restart, and on another database.
std::string idempotency_key(const std::string& tenant, const std::string& origin, const std::string& what);

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
