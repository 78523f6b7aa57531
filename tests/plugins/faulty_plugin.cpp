// A channel plugin that misbehaves on demand, per tenant, so tests can prove the host isolates
// it: setting `mode` = ok | throw | error | refuse_create.
//   ok            webhook → one message.received (body: {"id","from","text"}), 200
//   throw         handle_webhook throws a std::runtime_error
//   error         handle_webhook reports a plugin_error(final)
//   refuse_create the instance refuses to be created
//   count_then_error  counts the plugin metric webhook_events, then reports a plugin_error(final)
// Stages (for routing tests): faulty.relay emits {"type": "fixture.relayed", "seen": <event type>};
// faulty.loop emits an event of the type it was given (a route on it loops); faulty.sink emits nothing.
// In every mode but throw/error, a GET with ?payment_id=ID is a provider callback (as QPay's):
// one payment.completed event {"payment_id": ID}, 200; a GET without it answers 200 and emits nothing.
#include <switchboard/sdk/plugin.hpp>

#include <iterator>
#include <stdexcept>

namespace {
namespace sdk = switchboard::sdk;

class faulty_instance : public sdk::instance {
public:
    faulty_instance(const sdk::host& host, const sdk::settings& s) : host_(host), mode_(s.string("mode", "ok")) {
        if (mode_ == "refuse_create") throw sdk::plugin_error(sdk::error_kind::invalid, "mode refuse_create: refusing to start");
    }
    void handle_webhook(const sdk::request& req, sdk::webhook_result& out) override {
        if (mode_ == "throw") throw std::runtime_error("boom: faulty plugin threw");
        if (req.method() == "GET" && mode_ != "throw" && mode_ != "error") {
            if (auto id = req.query_param("payment_id"))
                out.emit({{"type", "payment.completed"}, {"payment_id", *id}, {"timestamp_ms", host_.now_ms()}});
            out.respond(200, "ok");
            return;
        }
        if (mode_ == "count_then_error") {
            host_.metric("webhook_events", 1);
            throw sdk::plugin_error(sdk::error_kind::final, "faulty plugin counted, then failed");
        }
        if (mode_ == "error") throw sdk::plugin_error(sdk::error_kind::final, "faulty plugin reports an error");
        auto body = boost::json::parse(req.body()).as_object();
        out.emit({{"type", "message.received"},
                  {"provider_message_id", body.at("id")},
                  {"contact", {{"provider_id", body.at("from")}}},
                  {"timestamp_ms", host_.now_ms()},
                  {"text", body.at("text")}});
        out.respond(200, "ok");
    }

    void run_stage(std::string_view stage, const boost::json::object& event, sdk::emitter& out) override {
        const auto& type = event.at("type").as_string();
        if (stage == "relay") out.emit({{"type", "fixture.relayed"}, {"seen", type}});
        else if (stage == "loop") out.emit({{"type", type}});
        else if (stage == "sink") return;
        else throw sdk::plugin_error(sdk::error_kind::final, "unknown stage 'faulty." + std::string(stage) + "'");
    }

private:
    sdk::host host_;
    std::string mode_;
};

const sb_setting_spec settings[] = {{"mode", SB_SETTING_STRING, 0, "ok", "ok | throw | error | refuse_create | count_then_error"}};

constexpr const char* stages[] = {"relay", "loop", "sink"};

const sdk::plugin_info info{
    .name = "faulty",
    .version = "0.0.1",
    .description = "test fixture plugin that fails on demand",
    .capabilities = SB_CAP_CHANNEL | SB_CAP_STAGE,
    .settings = settings,
    .settings_count = 1,
    .stages = stages,
    .stages_count = std::size(stages),
};
}  // namespace

SWITCHBOARD_PLUGIN(faulty_instance, info)
