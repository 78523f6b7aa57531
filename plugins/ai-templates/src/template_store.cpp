#include <switchboard/templates/template_store.hpp>
#include <switchboard/templates/shipped_data.hpp>

#include "json_document.hpp"

#include <switchboard/sdk/plugin.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace switchboard::templates {

template_store template_store::shipped() {
    static const template_store texts = [] {
        constexpr std::string_view source = "share/templates/replies.json";
        template_store store;
        detail::from_embedded(shipped::replies_json(), source, "replies",
                              [&](const boost::json::value& doc, std::string_view file) {
                                  store.apply_overrides(doc, file);
                                  return 0;
                              });
        if (auto missing = store.missing(); !missing.empty())
            throw sdk::plugin_error(sdk::error_kind::final, std::string(source) + " has no reply for '" + missing.front() +
                                                                "': add it and rebuild the plugin");
        return store;
    }();
    return texts;
}

void template_store::apply_overrides(const boost::json::value& doc, std::string_view source) {
    using sdk::error_kind;
    using sdk::plugin_error;
    const std::string where(source);
    if (!doc.is_object())
        throw plugin_error(error_kind::invalid, where + ": the document is " + std::string(detail::describe_kind(doc)) +
                                                    ", expected an object of locales (\"en\", \"mn\")");
    std::vector<std::string_view> intent_names;
    for (intent i : all_intents) intent_names.push_back(intent_name(i));
    const std::array<std::string_view, locale_count> locale_codes = {locale_code(locale::en), locale_code(locale::mn)};

    // Validate everything into a copy first, so a refused file leaves the store as it was.
    auto next = texts_;
    for (const auto& [locale_key, per_intent] : doc.as_object()) {
        const std::string lkey(locale_key);
        auto l = parse_locale(lkey);
        if (!l)
            throw plugin_error(error_kind::invalid, where + ": unknown locale '" + lkey + "'" +
                                                        detail::did_you_mean(lkey, locale_codes) + ": use en or mn");
        if (!per_intent.is_object())
            throw plugin_error(error_kind::invalid, where + ": '" + lkey + "' is " +
                                                        std::string(detail::describe_kind(per_intent)) +
                                                        ", expected an object of intent → reply text");
        for (const auto& [intent_key, text] : per_intent.as_object()) {
            const std::string key = lkey + "." + std::string(intent_key);
            auto i = parse_intent(intent_key);
            if (!i) {
                std::string all;
                for (auto n : intent_names) all += (all.empty() ? "" : ", ") + std::string(n);
                throw plugin_error(error_kind::invalid, where + ": unknown intent '" + key + "'" +
                                                            detail::did_you_mean(intent_key, intent_names) +
                                                            "; intents are: " + all);
            }
            if (!text.is_string() || text.as_string().empty())
                throw plugin_error(error_kind::invalid,
                                   where + ": '" + key + "' is " +
                                       std::string(text.is_string() ? "empty" : detail::describe_kind(text)) +
                                       ", expected the reply text (a non-empty string); remove the key to keep the "
                                       "shipped reply");
            next[index_of(*l)][index_of(*i)] = std::string(text.as_string());
        }
    }
    texts_ = std::move(next);
}

void template_store::apply_overrides_file(const std::string& path) {
    const std::string where = "templates_file '" + path + "'";
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw sdk::plugin_error(sdk::error_kind::invalid,
                                where + ": is a directory: point the setting at a JSON file shaped like "
                                        "share/templates/replies.json");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw sdk::plugin_error(sdk::error_kind::invalid,
                                where + ": cannot open it (" + std::strerror(errno) +
                                    "): fix the path or the file's permissions, or remove the setting");
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad())
        throw sdk::plugin_error(sdk::error_kind::invalid,
                                where + ": cannot read it (" + std::strerror(errno) + "): check the file");
    apply_overrides_json(content.str(), where);
}

void template_store::apply_overrides_json(std::string_view json, std::string_view source) {
    apply_overrides(detail::parse_json_document(json, source, sdk::error_kind::invalid), source);
}

std::vector<std::string> template_store::missing() const {
    std::vector<std::string> keys;
    for (locale l : all_locales)
        for (intent i : all_intents)
            if (text(l, i).empty()) keys.push_back(std::string(locale_code(l)) + "." + std::string(intent_name(i)));
    return keys;
}

std::string render(std::string_view tmpl, std::span<const placeholder> values) {
    std::string out;
    out.reserve(tmpl.size() + 32);
    std::size_t i = 0;
    while (i < tmpl.size()) {
        std::size_t open = tmpl.find('{', i);
        if (open == std::string_view::npos) break;
        out.append(tmpl.substr(i, open - i));
        std::size_t close = open + 1;
        while (close < tmpl.size() &&
               ((tmpl[close] >= 'a' && tmpl[close] <= 'z') || (tmpl[close] >= '0' && tmpl[close] <= '9') ||
                tmpl[close] == '_'))
            ++close;
        const placeholder* found = nullptr;
        if (close < tmpl.size() && tmpl[close] == '}' && close > open + 1) {
            std::string_view name = tmpl.substr(open + 1, close - open - 1);
            auto it = std::find_if(values.begin(), values.end(), [&](const placeholder& p) { return p.name == name; });
            if (it != values.end()) found = &*it;
        }
        if (!found) {  // not a placeholder we know: keep the brace and carry on after it
            out.push_back('{');
            i = open + 1;
            continue;
        }
        if (found->value.empty()) {
            if (!out.empty() && out.back() == ' ') out.pop_back();
        } else {
            out.append(found->value);
        }
        i = close + 1;
    }
    if (i < tmpl.size()) out.append(tmpl.substr(i));
    return out;
}

}  // namespace switchboard::templates
