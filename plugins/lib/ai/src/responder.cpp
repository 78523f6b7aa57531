#include <switchboard/ai/responder.hpp>

#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/json_fields.hpp>
#include <switchboard/sdk/lead_score.hpp>
#include <switchboard/ai/scorer.hpp>
#include <switchboard/templates/signals.hpp>

#include <algorithm>
#include <cstdio>

namespace switchboard::ai {
namespace json = boost::json;
namespace events = sdk::events;
namespace fields = sdk::json_fields;
using sdk::error_kind;
using sdk::plugin_error;

std::vector<sdk::setting> responder_settings(const provider_profile& p) {
    using sdk::setting_type;
    return {
        {.name = "api_key", .secret = true, .description = "API key; unset: the tier answers nothing and the chain moves on"},
        {.name = "base_url", .default_value = p.default_base_url, .description = "API base URL"},
        {.name = "model", .default_value = p.default_model, .description = "model name"},
        {.name = "system_prompt", .description = "instructions for the model (or system_prompt_file: a file holding them)"},
        {.name = "temperature", .type = setting_type::number, .default_value = "0.7", .description = "sampling temperature"},
        {.name = "max_tokens", .type = setting_type::integer, .default_value = "300",
         .description = "longest reply, in tokens"},
        {.name = "history_chars", .type = setting_type::integer, .default_value = "4000",
         .description = "characters of the conversation's recent messages sent with each request (newest kept)"},
        {.name = "history_messages", .type = setting_type::integer, .default_value = "20",
         .description = "most recent messages sent with each request"},
        {.name = "response_style", .description = "how replies should sound, e.g. 'friendly and brief' (added to the instructions)"},
        {.name = "language", .description = "the language replies are in, e.g. 'Mongolian'; unset: the customer's"},
        {.name = "business_hours",
         .description = "opening hours in time_zone, e.g. 'mon-fri 09:00-18:00, sat 10:00-14:00'; unset: always open"},
        {.name = "time_zone", .default_value = "UTC", .description = "IANA time zone of business_hours, e.g. Asia/Ulaanbaatar"},
        {.name = "out_of_hours", .type = setting_type::choice, .default_value = "answer",
         .description = "out of hours: answer (the model is told the business is closed), message (send "
                        "out_of_hours_message instead) or skip (the chain's next tier answers)",
         .choices = {"answer", "message", "skip"}},
        {.name = "out_of_hours_message", .description = "the reply out of hours when out_of_hours is message"},
        {.name = "detect_handoff", .type = setting_type::boolean, .default_value = "true",
         .description = "ask the model to say when the customer needs a person; the conversation is then handed over"},
        {.name = "handoff_message", .default_value = "Let me pass you to a member of our team. They will answer you here shortly.",
         .description = "the notice sent when the model hands the conversation to a person"},
        {.name = "catalog_file",
         .description = "the tenant's products and FAQ (.csv or .yaml: name, price, stock, description, keywords); "
                        "recommend puts the entries matching the customer's message in front of the model"},
        {.name = "monthly_token_budget", .type = setting_type::integer, .default_value = "0",
         .description = "prompt + completion tokens per calendar month (UTC); over it the tier answers nothing "
                        "and the chain moves on (0 = no budget)"},
    };
}

sdk::plugin_info responder_info(const provider_profile& profile, const char* name, const char* description) {
    return {
        .name = name,
        .version = "0.1.0",
        .license = "Apache-2.0",
        .description = description,
        .capabilities = SB_CAP_AI | SB_CAP_STAGE,
        .settings = responder_settings(profile),
        .stages = {"reply", "recommend", "score"},
        .events = {sdk::events::lead_scored.data(), sdk::events::lead_temperature_changed.data()},
    };
}

responder::responder(const sdk::host& host, const sdk::settings& s, const provider_profile& profile)
    : host_(host), profile_(profile), history_chars_(s.integer("history_chars", 4000)),
      history_messages_(s.integer("history_messages", 20)), monthly_budget_(s.integer("monthly_token_budget", 0)) {
    model_.base_url = s.base_url("base_url", profile.default_base_url);
    model_.api_key = s.string("api_key");
    model_.model = s.string("model", profile.default_model);
    context_ = tenant_context::from_settings(s);
    handoff_message_ = s.string("handoff_message", "Let me pass you to a member of our team. They will answer you here shortly.");
    if (const std::string file = s.string("catalog_file"); !file.empty())
        catalog_ = templates::product_catalog::load_file(file);
    model_.temperature = s.number("temperature", 0.7);
    model_.max_tokens = s.integer("max_tokens", 300);
    if (model_.max_tokens < 1) throw plugin_error(error_kind::invalid, "max_tokens must be at least 1");
    if (model_.api_key.empty())
        host_.warn("api_key is not set (" + std::string(profile.key_variable) + "): this tier answers nothing and "
                   "the fallback chain moves on");
}

void responder::run_stage(const sdk::call& call, std::string_view stage, const json::object& event, sdk::emitter& out) {
    if (stage == "score") return score(call, event, out);
    if (stage != "reply" && stage != "recommend")
        throw plugin_error(error_kind::final, "unknown stage '" + std::string(stage) + "'");
    if (!sdk::has_type(event, events::message_received)) return;
    auto* conversation = fields::object_at(event, "conversation");
    if (!conversation) return;
    if (auto* escalated = conversation->if_contains("escalated"); escalated && escalated->is_bool() && escalated->as_bool())
        return;  // a person has the conversation
    auto* contact = fields::object_at(event, "contact");
    const std::string recipient = contact ? fields::text_at(*contact, "provider_id") : "";
    const int64_t conversation_id = fields::int_at(*conversation, "id").value_or(0);
    if (recipient.empty() || conversation_id <= 0) return;
    if (call.answered_earlier()) return;  // a handoff stage before the chain sent its notice
    if (model_.api_key.empty()) return;  // skipped without delay: the next tier answers
    if (over_budget()) return;            // likewise, until the month turns
    json::object send{{"type", events::message_send},
                      {"channel", event.at("channel")},
                      {"recipient", {{"provider_id", recipient}}},
                      {"conversation_id", conversation_id}};
    if (auto mid = fields::text_at(event, "provider_message_id"); !mid.empty()) send["in_reply_to"] = mid;
    if (!context_.open_at(host_.now_ms())) {
        if (context_.when_closed == out_of_hours::skip) return;
        if (context_.when_closed == out_of_hours::message) {
            send["text"] = context_.out_of_hours_message;
            host_.metric("out_of_hours_notices");
            out.emit(send);
            return;
        }
    }
    generated g = generate(call, stage, event, conversation_id);
    if (context_.detect_handoff && asks_for_handoff(g.text)) {
        // The model found the customer needs a person: hand over, with a notice instead of "HANDOFF".
        out.emit({{"type", events::conversation_escalated},
                  {"channel", event.at("channel")},
                  {"conversation_id", conversation_id},
                  {"reason", "the model found that the customer needs a person"}});
        g.text = handoff_message_;
        host_.metric("handoffs");
    }
    send["text"] = g.text;
    send["generated"] = {{"provider", profile_.name}, {"tier", stage}, {"model", g.model},
                         {"prompt_tokens", g.prompt_tokens}, {"completion_tokens", g.completion_tokens},
                         {"latency_ms", g.latency_ms}, {"reused", g.reused}};
    out.emit(send);
}

std::string responder::budget_key(int64_t now_ms) {
    // The UTC calendar month, "YYYY-MM" (days since 1970-01-01 → civil date, H. Hinnant's algorithm).
    int64_t z = now_ms / 86'400'000 + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t month = mp < 10 ? mp + 3 : mp - 9;
    const int64_t year = yoe + era * 400 + (month <= 2);
    char out[32];
    std::snprintf(out, sizeof out, "ai.tokens:%04lld-%02lld", static_cast<long long>(year), static_cast<long long>(month));
    return out;
}

bool responder::over_budget() {
    if (monthly_budget_ <= 0) return false;
    const std::string key = budget_key(host_.now_ms());
    int64_t used = host_.kv_increment(key, 0, 40LL * 86'400'000);
    if (used < monthly_budget_) return false;
    host_.metric("over_budget_skips");
    std::lock_guard lock(told_mu_);
    if (told_over_budget_ != key) {  // once per month, not per message
        told_over_budget_ = key;
        host_.warn("monthly_token_budget of " + std::to_string(monthly_budget_) + " tokens is used up (" +
                   std::to_string(used) + "): the next tier answers until the month turns");
    }
    return true;
}

generated responder::generate(const sdk::call& call, std::string_view stage, const json::object& event,
                               int64_t conversation_id) {
    const std::string key = "ai." + std::string(stage) + ":" + call.idempotency_key();
    if (!call.idempotency_key().empty())
        if (auto kept = host_.kv_get(key)) {
            // Generated before a crash or a failed filing: send that, never ask the model again.
            boost::system::error_code ec;
            auto v = json::parse(*kept, ec);
            if (!ec && v.is_object() && !fields::text_at(v.as_object(), "text").empty()) {
                auto& o = v.as_object();
                host_.metric("replies_reused");
                return {fields::text_at(o, "text"), fields::text_at(o, "model"),
                        fields::int_at(o, "prompt_tokens").value_or(0), fields::int_at(o, "completion_tokens").value_or(0),
                        fields::int_at(o, "latency_ms").value_or(0), true};
            }
        }
    model_call c = model_;
    c.system_prompt = context_.instructions(host_.now_ms());
    std::vector<turn> turns;
    if (stage == "recommend") {
        // Single turn: the customer's words, and the catalog entries that match them.
        const std::string text = fields::message_text(event);
        if (!text.empty()) turns.push_back({"user", text});
        c.system_prompt += "\n" + catalog_instructions(text);
    } else {
        auto history = host_.conversation_history(conversation_id, static_cast<uint32_t>(std::max<int64_t>(history_messages_, 1)),
                                                  static_cast<uint32_t>(std::max<int64_t>(history_chars_, 0)));
        turns = turns_from_history(history, fields::text_at(event, "text"));
    }
    if (turns.empty()) throw plugin_error(error_kind::final, "nothing to answer: the message has no text", "no_text");
    generated g = ask(call, c, turns);
    host_.metric("replies_generated");
    if (!call.idempotency_key().empty())
        host_.kv_put(key,
                     json::serialize(json::object{{"text", g.text}, {"model", g.model},
                                                  {"prompt_tokens", g.prompt_tokens},
                                                  {"completion_tokens", g.completion_tokens},
                                                  {"latency_ms", g.latency_ms}}),
                     7LL * 86'400'000);
    return g;
}

std::string responder::catalog_instructions(const std::string& text) const {
    const auto found = catalog_.search(text, 5);
    if (found.empty())
        return "No entry of our catalog matches this message: recommend nothing specific and invent no products or prices.";
    std::string out = "Recommend only from these entries of our catalog (name — price (stock): description):";
    for (const auto* e : found) out += "\n- " + templates::describe(*e, "en");
    return out;
}

generated responder::ask(const sdk::call& call, model_call c, const std::vector<turn>& turns) {
    c.timeout_ms = call.timeout_ms(host_.now_ms(), 120'000, 8000);
    const int64_t started = host_.now_ms();
    generated g;
    try {
        g = profile_.answer(host_.http(profile_.request(c, turns)));
    } catch (const plugin_error& e) {
        // A refused key or model is the admin's to fix: say it once, not for every message.
        if (e.kind() == error_kind::final && !told_refused_.exchange(true))
            host_.warn(std::string(e.what()) + " — check api_key and model; the next tier answers meanwhile");
        host_.metric("model_errors");
        throw;
    }
    host_.metric("prompt_tokens", static_cast<double>(g.prompt_tokens));
    host_.metric("completion_tokens", static_cast<double>(g.completion_tokens));
    g.latency_ms = host_.now_ms() - started;
    host_.metric("model_latency_ms", static_cast<double>(g.latency_ms));
    if (monthly_budget_ > 0) {
        int64_t used = host_.kv_increment(budget_key(host_.now_ms()), g.prompt_tokens + g.completion_tokens, 40LL * 86'400'000);
        host_.gauge("tokens_used_this_month", static_cast<double>(used));
    }
    return g;
}

void responder::score(const sdk::call& call, const json::object& event, sdk::emitter& out) {
    if (!sdk::has_type(event, events::message_received)) return;
    const std::string text = fields::message_text(event);
    if (text.empty() || model_.api_key.empty() || over_budget()) return;  // the next tier scores
    // Generated once: a re-run after a crash reads the kept answer instead of asking again.
    const std::string key = "ai.score:" + call.idempotency_key();
    std::optional<std::string> answer;
    if (!call.idempotency_key().empty()) answer = host_.kv_get(key);
    if (!answer) {
        model_call c = model_;
        c.system_prompt = scoring_instructions();
        c.temperature = 0;
        c.max_tokens = 200;
        c.json_object = true;
        answer = ask(call, c, {{"user", text}}).text;
        if (!call.idempotency_key().empty()) host_.kv_put(key, *answer, 7LL * 86'400'000);
    }
    std::string source(profile_.name);
    auto assessment = read_assessment(*answer);
    if (!assessment) {
        host_.metric("malformed_scores");
        if (!told_malformed_.exchange(true))
            host_.warn("the model's lead score was not the JSON asked for: keyword scoring is used for such answers");
        assessment = sdk::lead::assessment{templates::signal_matcher::shipped().signals(text), {}, {}};
        source = "keywords";
    }
    if (sdk::lead::apply(host_, call, event, *assessment, source, out)) host_.metric("leads_scored");
}

}  // namespace switchboard::ai
