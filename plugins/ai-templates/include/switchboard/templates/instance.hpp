// switchboard/templates/instance.hpp — one tenant's template responder, as the host sees it.
#pragma once

#include <switchboard/sdk/plugin.hpp>
#include <switchboard/templates/intent.hpp>
#include <switchboard/templates/responder.hpp>
#include <switchboard/templates/signals.hpp>
#include <switchboard/templates/template_store.hpp>

#include <boost/json/object.hpp>
#include <string_view>

namespace switchboard::templates {

/// The stages this plugin provides; routes name them "templates.reply", "templates.score" and
/// "templates.handoff".
inline constexpr std::string_view reply_stage = "reply";
inline constexpr std::string_view score_stage = "score";
inline constexpr std::string_view handoff_stage = "handoff";

/// A tenant's instance: validated settings, the shipped replies with the tenant's overrides, and the
/// shipped intent keywords. Immutable after construction, so concurrent run_stage calls are safe.
class templates_instance : public sdk::instance {
public:
    /// Validates the settings and reads `templates_file` when set.
    /// @throws sdk::plugin_error(invalid) for an unsupported locale or an unusable templates_file (see
    ///         config_from_settings() and template_store::apply_overrides_file()).
    templates_instance(const sdk::host& host, const sdk::settings& settings);

    /// Runs the `reply` stage: emits what respond() returns, in order (nothing when an earlier stage
    /// of the run already answered). Runs the `score` stage (the
    /// keyword tier of lead scoring): on a message.received with text, the signals signal_matcher
    /// finds are added to the contact's score by sdk::lead::apply (source "keywords"), which emits
    /// lead.scored and lead.temperature_changed; other events and messages without signals: nothing.
    /// Runs the `handoff` stage, placed before a reply chain: hands the conversation to a person
    /// (handoff_outputs()) when its words ask for one (handoff_by_words()) or when the bot has
    /// answered auto_escalate_after of its messages since the last handoff; the reply stages after
    /// it see its notice (call.answered_earlier()) and stay silent, and the conversation is escalated
    /// for the messages after. Otherwise it emits nothing and
    /// counts the message (once per idempotency key) as one the bot answers.
    /// @throws sdk::plugin_error(final) for another stage name; whatever respond() or apply() throws.
    void run_stage(const sdk::call& call, std::string_view stage, const boost::json::object& event,
                   sdk::emitter& out) override;

    const responder_config& config() const noexcept { return config_; }
    const template_store& templates() const noexcept { return templates_; }

private:
    void handoff(const sdk::call& call, const boost::json::object& event, sdk::emitter& out);

    sdk::host host_;
    responder_config config_;
    template_store templates_;
    const intent_matcher& matcher_;
    const signal_matcher& signals_;
};

}  // namespace switchboard::templates
