// fuzz_templates — the template responder (plugins/templates) on arbitrary bytes.
//
// A customer's message text and postback payloads are untrusted input of the `reply` stage; the
// override documents (templates_file, keyword catalogs) are admin input read at start. The input is
// used as message text (normalization, intent matching, language choice, the whole reply), as a
// postback, as a template to render, as a keyword, and as a JSON document (an event of any shape,
// a replies override, a keyword catalog). Checked: the documented shapes of normalized text and of
// respond()'s output, that render() leaves unknown placeholders as written, that a keyword always
// matches the text it was made from, and that a refused override changes nothing.
#include "fuzz_check.hpp"

#include <switchboard/templates/intent.hpp>
#include <switchboard/templates/locale.hpp>
#include <switchboard/templates/responder.hpp>
#include <switchboard/templates/template_store.hpp>
#include <switchboard/templates/text.hpp>

#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/plugin.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace tpl = switchboard::templates;
namespace sdk = switchboard::sdk;
namespace json = boost::json;

// respond() output: nothing (escalated), or [conversation.escalated,] message.send.
void check_reply(const std::vector<json::object>& out, bool escalated) {
    if (escalated) {
        FUZZ_CHECK(out.empty());
        return;
    }
    FUZZ_CHECK(out.size() == 1 || out.size() == 2);
    const json::object& send = out.back();
    FUZZ_CHECK(send.at("type").as_string() == sdk::events::message_send);
    const auto& intent = send.at("intent").as_string();
    FUZZ_CHECK(tpl::parse_intent(intent).has_value());
    FUZZ_CHECK(tpl::parse_locale(send.at("locale").as_string()).has_value());
    FUZZ_CHECK(!send.at("text").as_string().empty());
    if (out.size() == 2) {
        FUZZ_CHECK(out.front().at("type").as_string() == sdk::events::conversation_escalated);
        FUZZ_CHECK(intent == "handoff");
    } else {
        FUZZ_CHECK(intent != "handoff");
    }
}

json::object message_event(std::string_view text) {
    return json::object{{"type", sdk::events::message_received},
                        {"channel", "messenger"},
                        {"contact", {{"provider_id", "1000001"}, {"name", text}}},
                        {"provider_message_id", "m_fuzz"},
                        {"conversation", {{"id", 1}, {"escalated", false}}},
                        {"text", text}};
}

void fuzz_text(std::string_view input, const tpl::template_store& store, const tpl::intent_matcher& matcher) {
    const std::string words = tpl::normalize_for_matching(input);
    FUZZ_CHECK(words.empty() || (words.front() != ' ' && words.back() != ' '));
    FUZZ_CHECK(words.find("  ") == std::string::npos);
    (void)tpl::utf8_lower(input);
    (void)tpl::count_letters(input);
    (void)matcher.match(input);

    // Unknown placeholders (every one, with no values) are left exactly as written.
    FUZZ_CHECK(tpl::render(input, {}) == input);
    const std::string contact(input.substr(0, 64));
    const tpl::placeholder values[] = {{"business_name", "Fuzz Shop"}, {"contact_name", contact}, {"empty", ""}};
    (void)tpl::render(input, values);

    tpl::responder_config config;
    for (bool detect : {true, false}) {
        config.detect_language = detect;
        for (tpl::locale l : tpl::all_locales) {
            config.tenant_locale = l;
            check_reply(tpl::respond(message_event(input), config, store, matcher), false);
        }
    }

    // The same bytes as a button press and as a quick reply.
    json::object postback = message_event("");
    postback.erase("text");
    postback["postback"] = {{"payload", input}, {"title", input}};
    check_reply(tpl::respond(postback, config, store, matcher), false);
    json::object quick = message_event(input);
    quick["quick_reply_payload"] = input;
    check_reply(tpl::respond(quick, config, store, matcher), false);

    // A keyword always matches the message it was made from (case, punctuation and a trailing
    // stem '*' aside). from_json refuses a keyword without letters or digits.
    const json::value catalog = {{"en", {{"greeting", json::array{json::string(input)}}}}};
    try {
        tpl::intent_matcher own = tpl::intent_matcher::from_json(catalog, "fuzz catalog");
        FUZZ_CHECK(own.keyword_count(tpl::intent::greeting) == 1);
        auto matched = own.match(input);
        FUZZ_CHECK(matched && *matched == tpl::intent::greeting);
    } catch (const sdk::plugin_error& e) {
        FUZZ_CHECK(e.kind() == sdk::error_kind::invalid);
    }
}

void fuzz_document(std::string_view input, const tpl::template_store& store, const tpl::intent_matcher& matcher) {
    // A replies override: accepted whole or refused with nothing changed.
    tpl::template_store changed = store;
    try {
        changed.apply_overrides_json(input, "fuzz override");
        FUZZ_CHECK(changed.missing().empty());
    } catch (const sdk::plugin_error& e) {
        FUZZ_CHECK(e.kind() == sdk::error_kind::invalid);
        for (tpl::locale l : tpl::all_locales)
            for (tpl::intent i : tpl::all_intents) FUZZ_CHECK(changed.text(l, i) == store.text(l, i));
    }

    boost::system::error_code ec;
    json::value doc = json::parse(input, ec);
    if (ec) return;

    try {
        tpl::intent_matcher own = tpl::intent_matcher::from_json(doc, "fuzz catalog");
        (void)own.match(input);
    } catch (const sdk::plugin_error& e) {
        FUZZ_CHECK(e.kind() == sdk::error_kind::invalid);
    }

    // An event of any shape: a reply, silence, or a plugin_error(invalid) naming the field.
    if (auto* event = doc.if_object()) {
        tpl::responder_config config;
        (void)tpl::classify(*event, matcher);
        (void)tpl::reply_locale(*event, config);
        try {
            auto out = tpl::respond(*event, config, store, matcher);
            const auto& escalated = event->at("conversation").at("escalated");
            check_reply(out, escalated.as_bool());
        } catch (const sdk::plugin_error& e) {
            FUZZ_CHECK(e.kind() == sdk::error_kind::invalid);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const tpl::template_store store = tpl::template_store::shipped();
    static const tpl::intent_matcher& matcher = tpl::intent_matcher::shipped();
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    fuzz_text(input, store, matcher);
    fuzz_document(input, store, matcher);

    // edit_distance is quadratic and meant for key names (did-you-mean): compare short prefixes.
    const std::string_view a = input.substr(0, std::min<std::size_t>(input.size() / 2, 64));
    const std::string_view b = input.substr(input.size() / 2, 64);
    const std::size_t distance = tpl::edit_distance(a, b);
    FUZZ_CHECK(distance <= std::max(a.size(), b.size()));
    FUZZ_CHECK(tpl::edit_distance(b, a) == distance);
    return 0;
}
