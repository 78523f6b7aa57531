// Running a tenant's routes on one event.
#include <switchboard/core/dispatch/route_runner.hpp>

#include <switchboard/core/dispatch/keys.hpp>
#include <switchboard/core/json_fields.hpp>
#include <switchboard/sdk/events.hpp>

#include <boost/json.hpp>

#include <algorithm>

namespace switchboard::core::dispatch {

namespace json = boost::json;
using json_fields::num;
using json_fields::str;

namespace {

/// The value at a dotted path ("contact.provider_id"), or nullptr.
const json::value* field_at(const json::object& o, std::string_view path) {
    const json::object* current = &o;
    while (true) {
        auto dot = path.find('.');
        auto* v = current->if_contains(path.substr(0, dot));
        if (!v || dot == std::string_view::npos) return v;
        current = v->if_object();
        if (!current) return nullptr;
        path = path.substr(dot + 1);
    }
}

}  // namespace

bool route_applies(const route_config& r, const json::object& event) {
    for (auto& f : r.when) {
        const json::value* v = field_at(event, f.field);
        if (!v || v->is_object() || v->is_array() || v->is_null()) return false;
        std::string text = v->is_string() ? std::string(v->get_string()) : json::serialize(*v);
        if (std::find(f.values.begin(), f.values.end(), text) == f.values.end()) return false;
    }
    return true;
}

route_runner::route_runner(const config& cfg, const instance_registry& instances, store& db, metrics& stats,
                           clock_fn clock)
    : cfg_(cfg), instances_(instances), db_(db), stats_(stats), clock_(std::move(clock)) {}

route_result route_runner::run(const job& j) {
    auto ev = json::parse(j.payload).as_object();
    const std::string type = str(ev, "type");
    const int64_t conv_id = num(ev, "conversation_id");
    if (conv_id > 0)
        if (auto c = db_.conversation(conv_id)) ev["conversation"] = {{"id", c->id}, {"escalated", c->escalated}};
    const std::string event_text = json::serialize(ev);
    auto tenant = cfg_.find_tenant(j.tenant);
    std::vector<new_job> commands;
    std::vector<std::string> emitted, emitted_types;
    int stage_index = 0;
    for (auto& r : tenant ? tenant->routes : std::vector<route_config>{}) {
        if (r.on != type || !route_applies(r, ev)) continue;
        for (auto& stage : r.run) {
            ++stage_index;
            auto dot = stage.find('.');
            std::string pname = stage.substr(0, dot), sname = stage.substr(dot + 1);
            auto inst = instances_.find(j.tenant, pname);
            if (!inst) return {route_status::failed, true, "tenant has no plugin '" + pname + "'", pname, 0};
            auto out = inst->run_stage(sname, event_text);
            if (out.status != SB_OK) {
                stats_.add("switchboard_plugin_errors_total", {{"tenant", j.tenant}, {"plugin", pname}});
                return {route_status::failed, out.status != SB_ERR_RETRYABLE, "stage " + stage + ": " + out.message,
                        pname, 0};
            }
            int k = 0;
            for (auto& o : out.outputs) {
                auto v = json::parse(o).as_object();
                std::string otype = str(v, "type");
                if (!sdk::events::is_command(otype)) {
                    // Routed like any other event, one step deeper in the chain (a limit stops loops).
                    if (!v.contains("conversation_id") && conv_id > 0) v["conversation_id"] = conv_id;
                    v["chain_depth"] = num(ev, "chain_depth") + 1;
                    emitted.push_back(json::serialize(v));
                    emitted_types.push_back(otype);
                    continue;
                }
                if (!v.contains("conversation_id") && conv_id > 0) v["conversation_id"] = conv_id;
                int64_t cid = num(v, "conversation_id");
                std::string target = str(v, "plugin");
                if (target.empty()) target = str(v, "channel");
                commands.push_back({job_kind::command, command_lane(j.tenant, otype, target, cid),
                                    command_key(j.id, stage_index, k++), json::serialize(v)});
            }
        }
    }
    route_result result;
    if (db_.complete_route(j, commands, emitted, clock_()) == fence::lost) {
        result.status = route_status::lost;
        return result;
    }
    for (auto& t : emitted_types) stats_.add("switchboard_events_total", {{"type", t}});
    result.commands = static_cast<int>(commands.size());
    return result;
}

}  // namespace switchboard::core::dispatch
