// libFuzzer target for the AI tiers' parsers of untrusted provider answers (plugins/lib/ai):
// openai_answer, anthropic_answer and classify at several statuses, read_assessment (lead scores),
// and turns_from_history on the input as a history array. They throw nothing but plugin_error; a successful answer has text;
// turns never start with the assistant and never repeat a role.
#include "fuzz_check.hpp"

#include <switchboard/ai/chat.hpp>
#include <switchboard/ai/scorer.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace ai = switchboard::ai;
    const std::string body(reinterpret_cast<const char*>(data), size);
    for (int status : {200, 400, 429, 500, 529}) {
        for (auto read : {ai::openai_answer, ai::anthropic_answer}) {
            try {
                auto g = read({status, {}, body});
                FUZZ_CHECK(status == 200 && !g.text.empty());
            } catch (const switchboard::sdk::plugin_error&) {
            }
        }
        (void)ai::classify("OpenAI", {status, {{"retry-after", body.substr(0, 8)}}, body});
    }
    // A lead score answer: read or refused, never thrown; what is read holds only known signals.
    if (auto a = ai::read_assessment(body)) {
        FUZZ_CHECK(a->signals.size() <= switchboard::sdk::lead::signal_count);
        FUZZ_CHECK(a->topic.size() <= 80);
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (!ec && v.is_array()) {
        auto turns = ai::turns_from_history(v.as_array(), "latest");
        if (!turns.empty()) FUZZ_CHECK(turns.front().role == "user");
        for (size_t i = 1; i < turns.size(); ++i) FUZZ_CHECK(turns[i].role != turns[i - 1].role);
    }
    return 0;
}
