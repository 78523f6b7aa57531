// switchboard/ai/context.hpp — a tenant's context for the model tiers: the instructions sent as the
// system prompt (the tenant's prompt, response style, language, whether the business is open now,
// how to ask for a person), the business hours in the tenant's time zone, and recognising the
// model's request to hand the conversation to a person.
#pragma once

#include <switchboard/sdk/plugin.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::ai {

/// Weekly opening hours, e.g. "mon-fri 09:00-18:00, sat 10:00-14:00" (local time of the tenant's
/// time zone). Days: mon tue wed thu fri sat sun, alone or as a range ("fri-mon" wraps); several
/// day groups separated by ',' or ';'; a group may list several intervals ("mon-fri 09:00-13:00
/// 14:00-18:00"); "24:00" ends a day; "closed" days are simply not listed.
class business_hours {
public:
    /// Always open (no hours configured).
    business_hours() = default;

    /// @throws sdk::plugin_error(invalid) naming the part that is not a day, range or HH:MM-HH:MM
    ///         interval, and the expected form.
    static business_hours parse(std::string_view text);

    /// True when no hours are configured (the business never counts as closed).
    bool always_open() const noexcept { return always_open_; }

    /// Open on `weekday` (0 = Monday … 6 = Sunday) at `minute` (0–1439 minutes after local midnight)?
    bool open_at(unsigned weekday, unsigned minute) const noexcept;

    /// The hours as configured, for the model's instructions and the out-of-hours notice.
    const std::string& text() const noexcept { return text_; }

private:
    bool always_open_ = true;
    std::string text_;
    std::array<std::vector<std::pair<unsigned, unsigned>>, 7> open_;  ///< [from, to) minutes per weekday
};

/// What to do with a message that arrives out of hours.
enum class out_of_hours : unsigned char {
    answer,   ///< the model answers, told that the business is closed and when it opens
    message,  ///< the tier sends out_of_hours_message instead of asking the model
    skip      ///< the tier answers nothing: the chain's next tier does
};

/// The marker a model answers with, alone, when the customer needs a person.
inline constexpr std::string_view handoff_marker = "HANDOFF";

/// A tenant's context, from the plugin's settings.
struct tenant_context {
    std::string system_prompt;    ///< the tenant's instructions ("" = none)
    std::string response_style;   ///< e.g. "friendly and brief" ("" = none)
    std::string language;         ///< e.g. "Mongolian" ("" = not said: models answer in the customer's)
    business_hours hours;
    std::string time_zone = "UTC";  ///< IANA name for `hours`
    out_of_hours when_closed = out_of_hours::answer;
    std::string out_of_hours_message;
    bool detect_handoff = true;     ///< ask the model to answer handoff_marker when a person is needed

    /// Reads system_prompt, response_style, language, business_hours, time_zone, out_of_hours
    /// ("answer" | "message" | "skip") and out_of_hours_message.
    /// @throws sdk::plugin_error(invalid) for malformed business_hours, an unknown time_zone, or
    ///         out_of_hours "message" without out_of_hours_message.
    static tenant_context from_settings(const sdk::settings& s);

    /// True when the business is open at `now_ms` (UTC ms) in time_zone (always with no hours).
    /// @throws sdk::plugin_error(invalid) when time_zone is not in the time zone database.
    bool open_at(int64_t now_ms) const;

    /// The system prompt for a reply at `now_ms`: the tenant's prompt, then one line each for the
    /// style, the language, "closed now (hours …)" when out of hours, and the handoff instruction.
    std::string instructions(int64_t now_ms) const;
};

/// Checks the time zone name. @throws sdk::plugin_error(invalid) naming it when unknown.
void check_time_zone(const std::string& name);

/// True when the model's answer is handoff_marker alone (case, spaces and punctuation aside).
bool asks_for_handoff(std::string_view answer) noexcept;

}  // namespace switchboard::ai
