// switchboard/ai/responder.hpp — the instance both model-backed AI plugins run: stage `reply`
// answers a customer's message.received with the model's reply to the conversation so far; stage
// `score` scores the message as a lead (ai/scorer.hpp, sdk/lead_score.hpp).
//
// Generate once: the reply is kept in the instance's kv under the call's idempotency key before
// the stage returns, so a route re-run after a crash (or a retry) sends the stored reply instead
// of asking the model again. A tier without an API key answers nothing, so a fallback chain moves
// on at once; model errors fail the stage, and first_of falls through to the next tier.
#pragma once

#include <switchboard/ai/chat.hpp>
#include <switchboard/ai/context.hpp>
#include <switchboard/templates/catalog.hpp>

#include <switchboard/sdk/plugin.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::ai {

/// What differs between the providers.
struct provider_profile {
    std::string_view name;          ///< "OpenAI", for messages
    std::string_view key_variable;  ///< the environment variable admins set the key from
    const char* default_base_url;   ///< e.g. "https://api.openai.com/v1"
    const char* default_model;      ///< e.g. "gpt-4o-mini"
    sdk::http_call (*request)(const model_call&, const std::vector<turn>&);
    generated (*answer)(const sdk::http_response&);
};

/// The settings both plugins declare: api_key (secret), base_url, model, system_prompt (or
/// system_prompt_file, read by the host), temperature, max_tokens, history_chars, history_messages,
/// the tenant context (response_style, language, business_hours, time_zone, out_of_hours,
/// out_of_hours_message, detect_handoff, handoff_message: see context.hpp), and
/// monthly_token_budget (over it the tier answers nothing; gauge tokens_used_this_month).
std::vector<sdk::setting> responder_settings(const provider_profile& profile);

/// The plugin_info of a model-backed AI plugin: stages `reply` and `recommend` (emitting
/// message.send) and `score` (emitting lead.scored and lead.temperature_changed).
sdk::plugin_info responder_info(const provider_profile& profile, const char* name, const char* description);

/// One tenant's instance.
class responder : public sdk::instance {
public:
    responder(const sdk::host& host, const sdk::settings& settings, const provider_profile& profile);

    /// Stage `reply` on message.received (other events, and escalated conversations: nothing).
    /// Emits one message.send {"channel", "recipient", "conversation_id", "in_reply_to", "text",
    /// "generated": {"provider", "tier", "model", "prompt_tokens", "completion_tokens", "latency_ms",
    /// "reused"}} (the host stores it per reply, table reply_usage, and counts it in /metrics). Stage
    /// `recommend` does the same single-turn: the customer's message (the whole burst) alone, with
    /// the catalog entries matching it in the instructions. The system prompt is
    /// the tenant context's instructions at this time. Out of business hours, per out_of_hours: the
    /// model is told; out_of_hours_message is sent without asking it; or nothing (the next tier).
    /// When the model answers handoff_marker, conversation.escalated {"reason"} comes first and the
    /// message.send carries handoff_message.
    /// @throws sdk::plugin_error from the model call (classify()); nothing without an API key.
    ///
    /// Stage `score` on message.received with text: the model is asked for the message's lead
    /// signals as JSON (scoring_instructions(); generated once per idempotency key, like replies);
    /// an answer read_assessment() refuses falls back to the keyword signals of the templates plugin
    /// (source "keywords", metric malformed_scores). sdk::lead::apply then scores the contact.
    /// Without an API key or over budget: nothing, so `first_of: [openai.score, templates.score]`
    /// moves on. @throws sdk::plugin_error from the model call, as `reply` does.
    void run_stage(const sdk::call& call, std::string_view stage, const boost::json::object& event,
                   sdk::emitter& out) override;

    /// The kv key of the tokens used in the UTC month of `now_ms`: "ai.tokens:YYYY-MM".
    static std::string budget_key(int64_t now_ms);

private:
    /// True when monthly_token_budget is set and used up (logged once a month).
    bool over_budget();
    /// The reply of stage `reply` (the conversation's turns) or `recommend` (the message alone, with
    /// catalog_instructions()), generated once per idempotency key (kv "ai.<stage>:<key>").
    generated generate(const sdk::call& call, std::string_view stage, const boost::json::object& event,
                       int64_t conversation_id);
    /// The catalog entries matching `text` (at most 5) as instructions, or the instruction to invent
    /// nothing when none match.
    std::string catalog_instructions(const std::string& text) const;
    void score(const sdk::call& call, const boost::json::object& event, sdk::emitter& out);
    /// One model request: the call's deadline as timeout, errors classified (a refused key logged
    /// once), usage counted in metrics and against the monthly budget.
    generated ask(const sdk::call& call, model_call request, const std::vector<turn>& turns);

    sdk::host host_;
    const provider_profile& profile_;
    model_call model_;      ///< key, model and sampling; the system prompt comes from context_ per call
    tenant_context context_;
    templates::product_catalog catalog_;  ///< catalog_file; empty when unset
    std::string handoff_message_;
    int64_t history_chars_, history_messages_, monthly_budget_;
    std::atomic<bool> told_refused_{false};
    std::atomic<bool> told_malformed_{false};
    std::mutex told_mu_;
    std::string told_over_budget_;  ///< the month already logged as over budget (guarded by told_mu_)
};

}  // namespace switchboard::ai
