#include <switchboard/ai/context.hpp>

#include <switchboard/sdk/plugin.hpp>

#include <date/date.h>
#include <date/tz.h>
#include <switchboard/tz/zone.hpp>

#include <cctype>

namespace switchboard::ai {
namespace {

using sdk::error_kind;
using sdk::plugin_error;

constexpr std::array<std::string_view, 7> day_names = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

[[noreturn]] void bad_hours(std::string_view part, std::string_view why) {
    throw plugin_error(error_kind::invalid, "business_hours: '" + std::string(part) + "' " + std::string(why) +
                                                " (expected e.g. \"mon-fri 09:00-18:00, sat 10:00-14:00\")");
}

int day_index(std::string_view name) {
    std::string lower;
    for (char c : name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    for (std::size_t i = 0; i < day_names.size(); ++i)
        if (lower.starts_with(day_names[i]) && lower.size() <= 9) return static_cast<int>(i);  // "mon", "monday"
    return -1;
}

// "09:00" → 540; "24:00" → 1440.
int minutes(std::string_view hhmm) {
    if (hhmm.size() != 5 || hhmm[2] != ':' || !std::isdigit(static_cast<unsigned char>(hhmm[0])) ||
        !std::isdigit(static_cast<unsigned char>(hhmm[1])) || !std::isdigit(static_cast<unsigned char>(hhmm[3])) ||
        !std::isdigit(static_cast<unsigned char>(hhmm[4])))
        return -1;
    const int h = (hhmm[0] - '0') * 10 + (hhmm[1] - '0'), m = (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0)) return -1;
    return h * 60 + m;
}

std::vector<std::string_view> split(std::string_view text, std::string_view separators) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i)
        if (i == text.size() || separators.find(text[i]) != std::string_view::npos) {
            if (i > start) parts.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    return parts;
}


}  // namespace

business_hours business_hours::parse(std::string_view text) {
    business_hours h;
    h.text_ = std::string(text);
    for (auto group : split(text, ",;")) {
        auto words = split(group, " \t");
        if (words.empty()) continue;
        h.always_open_ = false;
        std::vector<int> days;
        std::size_t w = 0;
        for (; w < words.size() && minutes(words[w].substr(0, 5)) < 0; ++w) {
            auto range = split(words[w], "-");
            if (range.empty() || range.size() > 2) bad_hours(words[w], "is not a day or a day range");
            const int from = day_index(range.front()), to = day_index(range.back());
            if (from < 0 || to < 0) bad_hours(words[w], "is not a day (mon, tue, wed, thu, fri, sat, sun)");
            for (int d = from;; d = (d + 1) % 7) {
                days.push_back(d);
                if (d == to) break;
            }
        }
        if (days.empty()) bad_hours(group, "names no day");
        if (w == words.size()) bad_hours(group, "has no HH:MM-HH:MM interval");
        for (; w < words.size(); ++w) {
            auto range = split(words[w], "-");
            const int from = range.size() == 2 ? minutes(range[0]) : -1, to = range.size() == 2 ? minutes(range[1]) : -1;
            if (from < 0 || to < 0 || to <= from) bad_hours(words[w], "is not an HH:MM-HH:MM interval that ends after it starts");
            for (int d : days) h.open_[static_cast<std::size_t>(d)].emplace_back(from, to);
        }
    }
    return h;
}

bool business_hours::open_at(unsigned weekday, unsigned minute) const noexcept {
    if (always_open_) return true;
    for (auto [from, to] : open_[weekday % 7])
        if (minute >= from && minute < to) return true;
    return false;
}

void check_time_zone(const std::string& name) { (void)tz::zone(name); }

tenant_context tenant_context::from_settings(const sdk::settings& s) {
    tenant_context c;
    c.system_prompt = s.string("system_prompt");
    c.response_style = s.string("response_style");
    c.language = s.string("language");
    c.hours = business_hours::parse(s.string("business_hours"));
    c.time_zone = s.string("time_zone", "UTC");
    check_time_zone(c.time_zone);
    const std::string closed = s.string("out_of_hours", "answer");
    c.when_closed = closed == "message" ? out_of_hours::message : closed == "skip" ? out_of_hours::skip : out_of_hours::answer;
    c.out_of_hours_message = s.string("out_of_hours_message");
    if (c.when_closed == out_of_hours::message && c.out_of_hours_message.empty())
        throw plugin_error(error_kind::invalid, "out_of_hours is message but out_of_hours_message is not set");
    c.detect_handoff = s.boolean("detect_handoff", true);
    return c;
}

bool tenant_context::open_at(int64_t now_ms) const {
    if (hours.always_open()) return true;
    const auto local = tz::zone(time_zone)->to_local(date::sys_time<std::chrono::milliseconds>{std::chrono::milliseconds(now_ms)});
    const auto day = date::floor<date::days>(local);
    const unsigned weekday = (date::weekday{day}.c_encoding() + 6) % 7;  // Monday = 0
    const auto minute = date::floor<std::chrono::minutes>(local - day).count();
    return hours.open_at(weekday, static_cast<unsigned>(minute));
}

std::string tenant_context::instructions(int64_t now_ms) const {
    std::string out = system_prompt;
    auto line = [&](const std::string& text) { out += (out.empty() ? "" : "\n") + text; };
    if (!response_style.empty()) line("Response style: " + response_style + ".");
    if (!language.empty()) line("Answer in " + language + ".");
    if (!hours.always_open() && !open_at(now_ms))
        line("The business is closed now; its hours are " + hours.text() + " (" + time_zone +
             "). Say when it opens again if the customer needs staff.");
    if (detect_handoff)
        line("If the customer asks for a person, or you cannot help them, answer with exactly " +
             std::string(handoff_marker) + " and nothing else.");
    return out;
}

bool asks_for_handoff(std::string_view answer) noexcept {
    std::string letters;
    for (char c : answer) {
        if (std::isalpha(static_cast<unsigned char>(c))) letters.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        else if (!std::isspace(static_cast<unsigned char>(c)) && !std::ispunct(static_cast<unsigned char>(c))) return false;
        if (letters.size() > handoff_marker.size()) return false;
    }
    return letters == handoff_marker;
}

}  // namespace switchboard::ai
