// A plugin that exercises every host service from one stage and reports what it saw, so a test can
// run the same scenario through the SDK's fake host and through the real host and compare.
//   services.exercise  on an event with "conversation_id" and "contact.provider_id": kv in both
//                      scopes, delete, increment, contacts, history, a registered secret; emits
//                      {"type": "services.report", ...}.
#include <switchboard/sdk/plugin.hpp>

namespace {
namespace sdk = switchboard::sdk;
namespace json = boost::json;

class services_instance : public sdk::instance {
public:
    services_instance(const sdk::host& host, const sdk::settings& s) : host_(host), settings_(s) {}

    void run_stage(const sdk::call& call, std::string_view, const json::object& event, sdk::emitter& out) override {
        json::object report{{"type", "services.report"}};
        auto or_null = [](const std::optional<std::string>& v) { return v ? json::value(*v) : json::value(nullptr); };
        host_.kv_put("a", "1");
        report["kv_get"] = or_null(host_.kv_get("a"));
        host_.kv_delete("a");
        report["kv_after_delete"] = or_null(host_.kv_get("a"));
        host_.kv_increment("quota", 2, 60'000);
        report["kv_increment"] = host_.kv_increment("quota", 3);
        auto first = host_.kv_increment_once("score", 10, "once:a");
        host_.kv_increment_once("score", 5, "once:b");
        auto again = host_.kv_increment_once("score", 10, "once:a");  // a re-run: no change, the first result
        report["kv_increment_once"] = json::array{first.value, first.applied, again.value, again.applied,
                                                  host_.kv_increment("score", 0)};
        host_.kv_put("link", "chat-9", 0, sdk::kv_scope::tenant);
        report["tenant_scope"] = or_null(host_.kv_get("link", sdk::kv_scope::tenant));
        report["instance_scope"] = or_null(host_.kv_get("link"));
        host_.kv_put("short", "lived", 1'000);
        report["ttl_value"] = or_null(host_.kv_get("short"));

        const std::string psid(event.at("contact").at("provider_id").as_string());
        report["contact_before"] = host_.contact("messenger", psid) ? json::value("known") : json::value("unknown");
        host_.update_contact("messenger", psid, {{"name", "Saraa"}, {"tags", {"vip"}}, {"attributes", {{"plan", "gold"}}}});
        host_.update_contact("messenger", psid, {{"score", 0.5}, {"attributes", {{"city", "UB"}, {"plan", nullptr}}}});
        auto c = host_.contact("messenger", psid);
        if (c) c->erase("id");
        report["contact"] = c ? json::value(*c) : json::value(nullptr);
        try {
            host_.update_contact("messenger", psid, {{"shoe_size", 42}});
            report["bad_patch"] = "accepted";
        } catch (const sdk::plugin_error& e) {
            report["bad_patch"] = e.what();
        }

        json::array history;
        for (auto& m : host_.conversation_history(event.at("conversation_id").to_number<int64_t>(), 2, 0))
            history.push_back(json::object{{"direction", m.at("direction")}, {"text", m.at("text")}});
        report["history"] = std::move(history);

        host_.register_secret("runtime-token-123456");
        host_.info("token is runtime-token-123456");
        report["instance"] = call.instance_name();
        report["tenant"] = settings_.tenant();
        out.emit(report);
    }

private:
    sdk::host host_;
    sdk::settings settings_;
};

const sdk::plugin_info info{
    .name = "services",
    .version = "0.0.1",
    .description = "test fixture: exercises every host service",
    .capabilities = SB_CAP_STAGE,
    .stages = {"exercise"},
    .events = {"services.report"},
};
}  // namespace

SWITCHBOARD_PLUGIN(services_instance, info)
