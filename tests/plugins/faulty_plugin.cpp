// A channel plugin that misbehaves on demand, per tenant, so tests can prove how the host isolates
// it and runs the pipeline around it. Setting `mode` = ok | throw | error | refuse_create |
// count_then_error:
//   ok            webhook → one message.received (body: {"id","from","text"}), 200
//   throw         handle_webhook throws a std::runtime_error
//   error         handle_webhook reports a plugin_error(final)
//   refuse_create the instance refuses to be created
//   count_then_error  counts the plugin metric webhook_events, then reports a plugin_error(final)
// In every mode but throw/error, a GET with ?payment_id=ID is a provider callback (as QPay's):
// one payment.completed event {"payment_id": ID, "dedupe_key": ID}, 200; a GET without it answers
// 200 and emits nothing. OPTIONS answers 204 with Access-Control-Allow-Origin: *.
// Stages:
//   relay     emits {"type": "fixture.relayed", "seen": <event type>}
//   loop      emits an event of the type it was given (a route on it loops)
//   sink      emits nothing
//   fetch     GETs setting `reply_url` (timeout: what is left of the call's deadline) and replies
//             with the body as a message.send; an HTTP error fails the stage
//   reply     replies "<with.text>" (default "fallback reply") and reports the earlier tiers it saw
//   history   emits {"type": "fixture.history", "messages": <last with.count messages>}
//   context   emits {"type": "fixture.context", ...the call context...}
//   record    emits the command faulty.record {"note": with.note}
//   wait      sleeps with.ms milliseconds (a slow AI call), then replies "waited"
// Command message.send: POSTs {"to", "text", "instance"} to setting `send_url` with the call's
// idempotency key; result {"provider_message_id": "f-<key>"}.
// Command faulty.record: counts with kv_increment; result {"type": "faulty.recorded", "count": n}
// (an event). Setting `defer_records` makes it defer (SB_ERR_RETRY_AFTER, 60 s) while the count
// is below it; `fail_records` makes it fail (retryable) while the count is below it.
#include <switchboard/sdk/plugin.hpp>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace {
namespace sdk = switchboard::sdk;
namespace json = boost::json;

class faulty_instance : public sdk::instance {
public:
    faulty_instance(const sdk::host& host, const sdk::settings& s)
        : host_(host), mode_(s.string("mode", "ok")), reply_url_(s.string("reply_url")), send_url_(s.string("send_url")),
          instance_(s.instance_name()),
          defer_records_(s.integer("defer_records", 0)), fail_records_(s.integer("fail_records", 0)) {
        if (mode_ == "refuse_create") throw sdk::plugin_error(sdk::error_kind::invalid, "mode refuse_create: refusing to start");
    }
    void handle_webhook(const sdk::request& req, sdk::webhook_result& out) override {
        if (mode_ == "throw") throw std::runtime_error("boom: faulty plugin threw");
        if (req.method() == "OPTIONS") {
            out.header("Access-Control-Allow-Origin", "*");
            out.header("Access-Control-Allow-Methods", "POST, OPTIONS");
            out.respond(204);
            return;
        }
        if (req.method() == "GET" && mode_ != "error") {
            if (auto id = req.query_param("payment_id"))
                out.emit({{"type", "payment.completed"}, {"payment_id", *id}, {"dedupe_key", "payment:" + *id},
                          {"public_url", req.public_url()}, {"timestamp_ms", host_.now_ms()}});
            out.respond(200, "ok");
            return;
        }
        if (mode_ == "count_then_error") {
            host_.metric("webhook_events", 1);
            throw sdk::plugin_error(sdk::error_kind::final, "faulty plugin counted, then failed");
        }
        if (mode_ == "error") throw sdk::plugin_error(sdk::error_kind::final, "faulty plugin reports an error");
        auto body = json::parse(req.body()).as_object();
        out.emit({{"type", "message.received"},
                  {"provider_message_id", body.at("id")},
                  {"contact", {{"provider_id", body.at("from")}}},
                  {"timestamp_ms", host_.now_ms()},
                  {"text", body.at("text")}});
        out.respond(200, "ok");
    }

    void run_stage(const sdk::call& call, std::string_view stage, const json::object& event, sdk::emitter& out) override {
        const auto& type = event.at("type").as_string();
        if (stage == "relay") out.emit({{"type", "fixture.relayed"}, {"seen", type}});
        else if (stage == "loop") out.emit({{"type", type}});
        else if (stage == "sink") return;
        else if (stage == "fetch") fetch(call, event, out);
        else if (stage == "reply") out.emit(reply(event, call.param("text", "fallback reply"), call.earlier_outputs()));
        else if (stage == "history") history(call, event, out);
        else if (stage == "context") out.emit({{"type", "fixture.context"}, {"instance", call.instance_name()},
                                               {"idempotency_key", call.idempotency_key()}, {"attempt", call.attempt()},
                                               {"deadline_ms", call.deadline_ms()}, {"params", call.params()}});
        else if (stage == "record") out.emit({{"type", "faulty.record"}, {"note", call.param("note")}});
        else if (stage == "wait") {
            std::this_thread::sleep_for(std::chrono::milliseconds(std::stoll(call.param("ms", "20000"))));
            out.emit(reply(event, "waited", {}));
        } else throw sdk::plugin_error(sdk::error_kind::final, "unknown stage 'faulty." + std::string(stage) + "'");
    }

    json::object execute(const sdk::call& call, const json::object& command) override {
        if (sdk::has_type(command, "message.send")) return send(call, command);
        if (!sdk::has_type(command, "faulty.record"))
            throw sdk::plugin_error(sdk::error_kind::final, "faulty executes only message.send and faulty.record");
        int64_t n = host_.kv_increment("records");
        if (n <= defer_records_) throw sdk::plugin_error::retry_after(60'000, "quota exhausted until the next window");
        if (n <= fail_records_) throw sdk::plugin_error(sdk::error_kind::retryable, "CRM unavailable (attempt " +
                                                                                    std::to_string(call.attempt()) + ")");
        return {{"type", "faulty.recorded"}, {"count", n}, {"idempotency_key", call.idempotency_key()}};
    }

private:
    json::object send(const sdk::call& call, const json::object& command) const {
        sdk::http_call post;
        post.url = send_url_;
        post.headers = {{"Content-Type", "application/json"}, {"Idempotency-Key", call.idempotency_key()}};
        post.body = json::serialize(json::object{{"to", command.at("recipient").at("provider_id")},
                                                 {"text", command.at("text")},
                                                 {"instance", instance_}});
        auto res = host_.http(post);
        if (res.status >= 300)
            throw sdk::plugin_error(sdk::error_kind::retryable, "send_url answered " + std::to_string(res.status));
        return {{"provider_message_id", "f-" + call.idempotency_key()}};
    }

    /// A message.send answering `event` with `text`; "fell_through" lists earlier tiers and why.
    static json::object reply(const json::object& event, std::string_view text, const json::array& earlier) {
        json::array fell;
        for (auto& e : earlier) fell.push_back(json::object{{"stage", e.at("stage")}, {"outcome", e.at("outcome")}});
        const auto* contact = event.if_contains("contact");
        return {{"type", "message.send"},
                {"channel", event.at("channel")},
                {"recipient", {{"provider_id", contact ? contact->at("provider_id") : json::value("")}}},
                {"text", text},
                {"fell_through", std::move(fell)}};
    }

    void fetch(const sdk::call& call, const json::object& event, sdk::emitter& out) const {
        sdk::http_call get;
        get.method = "GET";
        get.url = reply_url_;
        get.timeout_ms = static_cast<unsigned>(std::max<int64_t>(1, call.remaining_ms(host_.now_ms())));
        auto res = host_.http(get);
        if (res.status == 429) throw sdk::plugin_error::retry_after(res.retry_after_ms(), "reply service is rate limited");
        if (res.status >= 300)
            throw sdk::plugin_error(sdk::error_kind::retryable, "reply service answered " + std::to_string(res.status));
        out.emit(reply(event, res.body, call.earlier_outputs()));
    }

    void history(const sdk::call& call, const json::object& event, sdk::emitter& out) const {
        auto count = static_cast<unsigned>(std::stoul(call.param("count", "10")));
        auto chars = static_cast<unsigned>(std::stoul(call.param("chars", "0")));
        out.emit({{"type", "fixture.history"},
                  {"messages", host_.conversation_history(event.at("conversation_id").to_number<int64_t>(), count, chars)}});
    }

    sdk::host host_;
    std::string mode_, reply_url_, send_url_, instance_;
    int64_t defer_records_, fail_records_;
};

using sdk::setting_type;
const sdk::plugin_info info{
    .name = "faulty",
    .version = "0.0.2",
    .description = "test fixture plugin that fails on demand",
    .capabilities = SB_CAP_CHANNEL | SB_CAP_STAGE,
    .settings = {{.name = "mode", .type = setting_type::choice, .default_value = "ok",
                  .description = "how the plugin misbehaves",
                  .choices = {"ok", "throw", "error", "refuse_create", "count_then_error"}},
                 {.name = "reply_url", .description = "URL the fetch stage GETs its reply from"},
                 {.name = "send_url", .description = "URL message.send POSTs to"},
                 {.name = "defer_records", .type = setting_type::integer, .default_value = "0",
                  .description = "faulty.record defers while its count is at most this"},
                 {.name = "fail_records", .type = setting_type::integer, .default_value = "0",
                  .description = "faulty.record fails (retryable) while its count is at most this"},
                 {.name = "keywords", .type = setting_type::list, .description = "a list setting (unused)"}},
    .stages = {"relay", "loop", "sink", "fetch", "reply", "history", "context", "record", "wait"},
    .commands = {"message.send", "faulty.record"},
    .events = {"message.received", "payment.completed", "fixture.relayed", "fixture.history", "fixture.context",
               "faulty.recorded"},
};
}  // namespace

SWITCHBOARD_PLUGIN(faulty_instance, info)
