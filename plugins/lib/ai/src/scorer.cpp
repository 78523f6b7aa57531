#include <switchboard/ai/scorer.hpp>

#include <boost/json.hpp>

namespace switchboard::ai {
namespace json = boost::json;
namespace lead = sdk::lead;

std::string_view scoring_instructions() noexcept {
    return "You score sales leads for a small business from one customer message. Answer with only a JSON object, "
           "no prose and no code fence: {\"signals\": [...], \"sentiment\": \"positive\"|\"neutral\"|\"negative\", "
           "\"topic\": \"a few words\"}. \"signals\" lists those of these that the message shows, or []: "
           "\"interested\" (wants to buy or book), \"urgent\" (needs it soon), \"budget_mentioned\" (names a budget "
           "or an amount), \"decision_maker\" (buys for a company or decides), \"comparing\" (compares prices or "
           "shops), \"not_interested\" (declines), \"spam\" (advertising, scams, unrelated offers).";
}

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// "```json\n{...}\n```" → "{...}"; anything else unchanged.
std::string_view unfenced(std::string_view s) {
    s = trim(s);
    if (!s.starts_with("```") || s.size() < 6 || !s.ends_with("```")) return s;
    s.remove_suffix(3);
    s.remove_prefix(3);
    const auto newline = s.find('\n');
    if (newline == std::string_view::npos) return {};
    const std::string_view language = trim(s.substr(0, newline));
    if (!language.empty() && language != "json") return {};
    return trim(s.substr(newline + 1));
}

}  // namespace

std::optional<lead::assessment> read_assessment(std::string_view answer) {
    boost::system::error_code ec;
    json::value v = json::parse(unfenced(answer), ec);
    if (ec || !v.is_object()) return std::nullopt;
    const json::object& o = v.as_object();
    const auto* signals = o.if_contains("signals");
    if (!signals || !signals->is_array()) return std::nullopt;
    lead::assessment a;
    for (const auto& s : signals->as_array()) {
        if (!s.is_string()) return std::nullopt;
        auto which = lead::parse_signal(s.as_string());
        if (!which) return std::nullopt;
        if (std::find(a.signals.begin(), a.signals.end(), *which) == a.signals.end()) a.signals.push_back(*which);
    }
    if (const auto* sentiment = o.if_contains("sentiment")) {
        if (!sentiment->is_string()) return std::nullopt;
        const std::string_view s = sentiment->as_string();
        if (s != "positive" && s != "neutral" && s != "negative") return std::nullopt;
        a.sentiment = s;
    }
    if (const auto* topic = o.if_contains("topic")) {
        if (!topic->is_string()) return std::nullopt;
        std::string_view t = topic->as_string();
        if (t.size() > 80) {
            t = t.substr(0, 80);
            while (!t.empty() && (static_cast<unsigned char>(t.back()) & 0xC0) == 0x80) t.remove_suffix(1);  // whole code points
            if (!t.empty() && static_cast<unsigned char>(t.back()) >= 0xC0) t.remove_suffix(1);
        }
        a.topic = t;
    }
    return a;
}

}  // namespace switchboard::ai
