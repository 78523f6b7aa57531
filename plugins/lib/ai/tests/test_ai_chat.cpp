// The model-backed AI tiers: conversation turns, the OpenAI Chat Completions and Anthropic
// Messages formats (request and answer shapes from their API references), error classes, and the
// `reply` stage through the fake host (generate once, no key → no answer, escalated → silent).
#include <switchboard/ai/chat.hpp>
#include <switchboard/ai/context.hpp>
#include <switchboard/ai/scorer.hpp>
#include <switchboard/ai/responder.hpp>
#include <switchboard/sdk/testing.hpp>

#include <catch2/catch.hpp>

namespace json = boost::json;
namespace ai = switchboard::ai;
namespace sbt = switchboard::sdk::testing;
using switchboard::sdk::error_kind;
using switchboard::sdk::plugin_error;

namespace {

json::object customer_message(const std::string& text, bool escalated = false) {
    return {{"type", "message.received"}, {"channel", "messenger"}, {"provider_message_id", "m_1"},
            {"contact", {{"provider_id", "psid-1"}}}, {"text", text},
            {"conversation", {{"id", 7}, {"escalated", escalated}}}};
}

sbt::http_reply openai_ok(const char* text) {
    return sbt::http_reply::json(200, json::object{
        {"id", "chatcmpl-1"}, {"object", "chat.completion"}, {"model", "gpt-4o-mini-2024-07-18"},
        {"choices", json::array{json::object{{"index", 0}, {"message", {{"role", "assistant"}, {"content", text}}},
                                             {"finish_reason", "stop"}}}},
        {"usage", {{"prompt_tokens", 42}, {"completion_tokens", 9}, {"total_tokens", 51}}}});
}

}  // namespace

TEST_CASE("ai: history becomes alternating turns ending with the customer's message", "[ai]") {
    auto history = json::parse(R"([{"direction":"out","text":"Welcome!"},{"direction":"in","text":"hi"},
        {"direction":"in","text":"price?"},{"direction":"out","text":"Which item?"},{"direction":"in","text":""},
        {"direction":"in","text":"the red one"}])").as_array();
    auto turns = ai::turns_from_history(history, "the red one");
    REQUIRE(turns.size() == 3);
    CHECK(turns[0].role == "user");
    CHECK(turns[0].text == "hi\nprice?");
    CHECK(turns[1].role == "assistant");
    CHECK(turns[2].text == "the red one");
    auto fresh = ai::turns_from_history(json::array{}, "hello");
    REQUIRE(fresh.size() == 1);
    CHECK(fresh[0].role == "user");
}

TEST_CASE("ai: OpenAI and Anthropic requests and answers in each provider's format", "[ai]") {
    ai::model_call c{.base_url = "https://api.example.test/v1", .api_key = "sk-test", .model = "m",
                     .system_prompt = "You are the shop's assistant.", .temperature = 0.2, .max_tokens = 100};
    std::vector<ai::turn> turns{{"user", "hi"}, {"assistant", "hello"}, {"user", "price?"}};
    auto o = ai::openai_request(c, turns);
    CHECK(o.url == "https://api.example.test/v1/chat/completions");
    CHECK(json::parse(o.body) == json::parse(R"({"model":"m","messages":[{"role":"system",
        "content":"You are the shop's assistant."},{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},
        {"role":"user","content":"price?"}],"temperature":0.2,"max_tokens":100})"));
    bool bearer = false;
    for (auto& [k, v] : o.headers) bearer = bearer || (k == "Authorization" && v == "Bearer sk-test");
    CHECK(bearer);
    c.base_url = "https://anthropic.example.test";
    auto a = ai::anthropic_request(c, turns);
    CHECK(a.url == "https://anthropic.example.test/v1/messages");
    auto body = json::parse(a.body).as_object();
    CHECK(body.at("system") == "You are the shop's assistant.");
    CHECK(body.at("messages").as_array().size() == 3);
    CHECK(body.at("max_tokens") == 100);
    int version = 0;
    for (auto& [k, v] : a.headers) version += (k == "anthropic-version" && v == "2023-06-01") + (k == "x-api-key" && v == "sk-test");
    CHECK(version == 2);

    auto g = ai::openai_answer({200, {}, openai_ok("It costs 20,000").body});
    CHECK(g.text == "It costs 20,000");
    CHECK(g.prompt_tokens == 42);
    auto h = ai::anthropic_answer({200, {}, R"({"id":"msg_1","type":"message","role":"assistant","model":"claude",
        "content":[{"type":"text","text":"Hello!"}],"stop_reason":"end_turn","usage":{"input_tokens":30,"output_tokens":5}})"});
    CHECK(h.text == "Hello!");
    CHECK(h.completion_tokens == 5);
}

TEST_CASE("ai: refused keys and models are final; overload, 429 and 5xx are retryable", "[ai]") {
    auto kind_of = [](int status, const char* body) { return ai::classify("OpenAI", {status, {}, body}).kind(); };
    CHECK(kind_of(401, R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}})") == error_kind::final);
    CHECK(kind_of(404, R"({"error":{"message":"model not found"}})") == error_kind::final);
    CHECK(kind_of(429, R"({"error":{"message":"Rate limit reached","type":"requests"}})") == error_kind::retryable);
    CHECK(kind_of(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})") == error_kind::retryable);
    CHECK(kind_of(500, "oops") == error_kind::retryable);
    auto e = ai::classify("Anthropic", {529, {}, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"});
    CHECK(std::string(e.what()) == "Anthropic answered HTTP 529 (overloaded_error): Overloaded");
    CHECK_THROWS_AS(ai::openai_answer({200, {}, R"({"choices":[]})"}), plugin_error);
    CHECK_THROWS_AS(ai::anthropic_answer({200, {}, "not json"}), plugin_error);
}

TEST_CASE("ai plugin: reply sends the conversation, is generated once, and stays silent where it must", "[ai]") {
    auto host = sbt::fake_host::load(std::string(SWITCHBOARD_PLUGIN_DIR) + "/switchboard-openai.so");
    auto bot = host.create("shop", {{"api_key", "sk-test-key"}, {"base_url", "https://openai.example.test/v1"},
                                    {"system_prompt", "Answer briefly."}});
    host.add_history("shop", 7, "in", "hi");
    host.add_history("shop", 7, "out", "Hello! How can I help?");
    host.add_history("shop", 7, "in", "how much is delivery?");
    host.push_http_reply(openai_ok("Delivery is free."));
    auto first = bot.run_stage("reply", customer_message("how much is delivery?"), {.idempotency_key = "k-1"});
    REQUIRE(first.ok());
    REQUIRE(first.outputs.size() == 1);
    CHECK(first.outputs[0].at("type") == "message.send");
    CHECK(first.outputs[0].at("text") == "Delivery is free.");
    CHECK(first.outputs[0].at("recipient").at("provider_id") == "psid-1");
    CHECK(first.outputs[0].at("generated").at("prompt_tokens") == 42);
    auto sent = host.http_requests().at(0).json().as_object();
    CHECK(sent.at("messages").as_array().size() == 4);  // system, user, assistant, user
    CHECK(sent.at("messages").as_array()[0].at("content").as_string().starts_with("Answer briefly.\n"));
    // The same route run again (a crash after generation): the stored reply, no second request.
    auto again = bot.run_stage("reply", customer_message("how much is delivery?"), {.idempotency_key = "k-1"});
    CHECK(again.outputs.at(0).at("text") == "Delivery is free.");
    CHECK(host.http_requests().size() == 1);
    // Escalated conversations and tenants without a key: nothing, at once.
    CHECK(bot.run_stage("reply", customer_message("hello?", true), {.idempotency_key = "k-2"}).outputs.empty());
    auto keyless = host.create("bare", {});
    CHECK(keyless.run_stage("reply", customer_message("hi"), {.idempotency_key = "k-3"}).outputs.empty());
    CHECK(host.logged("OPENAI_API_KEY"));
    // A refused key fails the tier and is logged once, not for every message.
    host.push_http_reply(sbt::http_reply::json(401, json::parse(R"({"error":{"message":"Incorrect API key provided",
        "type":"invalid_request_error"}})")));
    host.push_http_reply(sbt::http_reply::json(401, json::parse(R"({"error":{"message":"Incorrect API key provided"}})")));
    CHECK(bot.run_stage("reply", customer_message("a"), {.idempotency_key = "k-4"}).status() == SB_ERR_FINAL);
    CHECK(bot.run_stage("reply", customer_message("b"), {.idempotency_key = "k-5"}).status() == SB_ERR_FINAL);
    size_t warnings = 0;
    for (auto& l : host.logs()) warnings += l.text.find("check api_key and model") != std::string::npos;
    CHECK(warnings == 1);
    for (auto& l : host.logs()) CHECK(l.text.find("sk-test-key") == std::string::npos);
}

TEST_CASE("ai plugin: over the monthly token budget the tier answers nothing until the month turns", "[ai]") {
    CHECK(ai::responder::budget_key(1'796'083'200'000) == "ai.tokens:2026-12");  // 2026-12-01T00:00Z
    CHECK(ai::responder::budget_key(1'796'083'199'999) == "ai.tokens:2026-11");
    auto host = sbt::fake_host::load(std::string(SWITCHBOARD_PLUGIN_DIR) + "/switchboard-openai.so");
    host.set_now_ms(1'795'000'000'000);  // November 2026
    auto bot = host.create("shop", {{"api_key", "sk-test-key"}, {"base_url", "https://openai.example.test/v1"},
                                    {"monthly_token_budget", "60"}});
    host.push_http_reply(openai_ok("First."));  // 42 + 9 tokens
    CHECK(bot.run_stage("reply", customer_message("one"), {.idempotency_key = "b-1"}).outputs.size() == 1);
    host.push_http_reply(openai_ok("Second."));  // 102 tokens now: over
    CHECK(bot.run_stage("reply", customer_message("two"), {.idempotency_key = "b-2"}).outputs.size() == 1);
    CHECK(host.gauge("shop", "tokens_used_this_month") == 102.0);
    CHECK(bot.run_stage("reply", customer_message("three"), {.idempotency_key = "b-3"}).outputs.empty());
    CHECK(bot.run_stage("reply", customer_message("four"), {.idempotency_key = "b-4"}).outputs.empty());
    CHECK(host.http_requests().size() == 2);
    size_t told = 0;
    for (auto& l : host.logs()) told += l.text.find("monthly_token_budget of 60 tokens is used up") != std::string::npos;
    CHECK(told == 1);
    host.set_now_ms(1'796'083'200'000);  // December
    host.push_http_reply(openai_ok("New month."));
    CHECK(bot.run_stage("reply", customer_message("five"), {.idempotency_key = "b-5"}).outputs.size() == 1);
}

TEST_CASE("ai: a lead score answer is read only when it is the JSON asked for", "[ai][lead]") {
    using switchboard::sdk::lead::signal;
    auto a = ai::read_assessment(R"({"signals": ["interested", "urgent", "interested"], "sentiment": "positive",
                                     "topic": "winter boots"})");
    REQUIRE(a);
    CHECK(a->signals == std::vector<signal>{signal::interested, signal::urgent});
    CHECK(a->sentiment == "positive");
    CHECK(a->topic == "winter boots");
    CHECK(ai::read_assessment("```json\n{\"signals\": []}\n```"));
    CHECK(ai::read_assessment("  {\"signals\": [\"spam\"]}\n")->signals == std::vector<signal>{signal::spam});
    CHECK_FALSE(ai::read_assessment("The customer seems interested."));
    CHECK_FALSE(ai::read_assessment(R"({"signals": ["very_interested"]})"));
    CHECK_FALSE(ai::read_assessment(R"({"signals": "interested"})"));
    CHECK_FALSE(ai::read_assessment(R"({"sentiment": "positive"})"));
    CHECK_FALSE(ai::read_assessment(R"({"signals": [], "sentiment": "happy"})"));
    CHECK_FALSE(ai::read_assessment("```python\n{\"signals\": []}\n```"));
    CHECK(ai::read_assessment(R"({"signals": [], "topic": ")" + std::string(200, 'x') + "\"}")->topic.size() == 80);
    CHECK(ai::scoring_instructions().find("budget_mentioned") != std::string_view::npos);
}

TEST_CASE("ai plugin: score asks the model for JSON once, and falls back to keywords on prose", "[ai][lead]") {
    auto host = sbt::fake_host::load(std::string(SWITCHBOARD_PLUGIN_DIR) + "/switchboard-openai.so");
    auto bot = host.create("shop", {{"api_key", "sk-test-key"}, {"base_url", "https://openai.example.test/v1"}});
    host.push_http_reply(openai_ok(R"({"signals":["interested","budget_mentioned","decision_maker"],"sentiment":"positive","topic":"office chairs"})"));
    auto scored = bot.run_stage("score", customer_message("20 chairs for our office, budget 2 million"), {.idempotency_key = "l-1"});
    REQUIRE(scored.ok());
    REQUIRE(scored.outputs.size() == 2);
    CHECK(scored.outputs[0].at("type") == "lead.scored");
    CHECK(scored.outputs[0].at("score") == 45);
    CHECK(scored.outputs[0].at("source") == "OpenAI");
    CHECK(scored.outputs[0].at("topic") == "office chairs");
    CHECK(scored.outputs[1].at("type") == "lead.temperature_changed");
    CHECK(scored.outputs[1].at("to") == "WARM");
    auto request = host.http_requests().at(0).json().as_object();
    CHECK(request.at("response_format").at("type") == "json_object");
    CHECK(request.at("temperature").to_number<double>() == 0.0);
    CHECK(request.at("messages").as_array().at(0).at("content").as_string().find("JSON object") != std::string::npos);
    CHECK(request.at("messages").as_array().at(1).at("content") == "20 chairs for our office, budget 2 million");
    // A re-run: neither a second request nor a second count.
    auto again = bot.run_stage("score", customer_message("20 chairs for our office, budget 2 million"), {.idempotency_key = "l-1"});
    CHECK(again.outputs.at(0).at("score") == 45);
    CHECK(host.http_requests().size() == 1);
    // Prose instead of JSON: the keyword signals count ("urgent", "today"), logged once.
    host.push_http_reply(openai_ok("This customer is in a hurry."));
    auto prose = bot.run_stage("score", customer_message("I need it today, urgent"), {.idempotency_key = "l-2"});
    REQUIRE(prose.outputs.size() == 1);
    CHECK(prose.outputs[0].at("source") == "keywords");
    CHECK(prose.outputs[0].at("signals") == json::array{"urgent"});
    CHECK(prose.outputs[0].at("score") == 60);
    CHECK(host.logged("not the JSON asked for"));
    // Without a key: nothing, so the chain's next tier scores.
    auto keyless = host.create("bare", {});
    CHECK(keyless.run_stage("score", customer_message("I want it"), {.idempotency_key = "l-3"}).outputs.empty());
}

TEST_CASE("ai: business hours in the tenant's time zone, and the instructions they give the model", "[ai][context]") {
    auto h = ai::business_hours::parse("mon-fri 09:00-18:00, sat 10:00-14:00");
    CHECK(h.open_at(0, 9 * 60));        // Monday 09:00
    CHECK_FALSE(h.open_at(0, 18 * 60)); // 18:00 is closing time
    CHECK(h.open_at(5, 13 * 60 + 59));  // Saturday
    CHECK_FALSE(h.open_at(6, 12 * 60)); // Sunday
    auto split = ai::business_hours::parse("fri-mon 10:00-13:00 14:00-24:00");
    CHECK(split.open_at(6, 23 * 60 + 59));
    CHECK_FALSE(split.open_at(0, 13 * 60 + 30));
    CHECK_FALSE(split.open_at(2, 11 * 60));
    CHECK(ai::business_hours::parse("").always_open());
    for (const char* bad : {"mon-fri", "mon-fri 9-18", "funday 09:00-10:00", "mon 18:00-09:00", "mon 09:00-25:00"}) {
        INFO(bad);
        CHECK_THROWS_WITH(ai::business_hours::parse(bad), Catch::Contains("business_hours:"));
    }

    ai::tenant_context c;
    c.system_prompt = "You work at Nomad Coffee.";
    c.response_style = "friendly and brief";
    c.language = "Mongolian";
    c.hours = ai::business_hours::parse("mon-fri 09:00-18:00");
    c.time_zone = "Asia/Ulaanbaatar";  // UTC+8
    const int64_t monday_0900_ub = 1'796'000'400'000;  // 2026-11-30T01:00:00Z, a Monday
    CHECK(c.open_at(monday_0900_ub));
    CHECK_FALSE(c.open_at(monday_0900_ub - 60'000));  // 08:59 there
    CHECK(c.instructions(monday_0900_ub) ==
          "You work at Nomad Coffee.\nResponse style: friendly and brief.\nAnswer in Mongolian.\n"
          "If the customer asks for a person, or you cannot help them, answer with exactly HANDOFF and nothing else.");
    CHECK_THAT(c.instructions(monday_0900_ub - 60'000),
               Catch::Contains("closed now; its hours are mon-fri 09:00-18:00 (Asia/Ulaanbaatar)"));
    CHECK_THROWS_WITH(ai::check_time_zone("Mars/Olympus"), Catch::Contains("time_zone 'Mars/Olympus'"));

    CHECK(ai::asks_for_handoff("HANDOFF"));
    CHECK(ai::asks_for_handoff(" handoff.\n"));
    CHECK_FALSE(ai::asks_for_handoff("I will HANDOFF you"));
    CHECK_FALSE(ai::asks_for_handoff("HANDOFFS"));
    CHECK_FALSE(ai::asks_for_handoff(""));
}

TEST_CASE("ai plugin: a model's handoff escalates with the notice; out of hours follows out_of_hours", "[ai][context]") {
    auto host = sbt::fake_host::load(std::string(SWITCHBOARD_PLUGIN_DIR) + "/switchboard-openai.so");
    host.set_now_ms(1'796'000'400'000);  // Monday 09:00 in Ulaanbaatar
    auto bot = host.create("shop", {{"api_key", "sk-test-key"}, {"base_url", "https://openai.example.test/v1"},
                                    {"business_hours", "mon-fri 09:00-18:00"}, {"time_zone", "Asia/Ulaanbaatar"},
                                    {"out_of_hours", "message"}, {"out_of_hours_message", "We open at 9:00."},
                                    {"handoff_message", "A colleague will answer you here."}});
    host.push_http_reply(openai_ok("HANDOFF"));
    auto handed = bot.run_stage("reply", customer_message("my order is wrong and nobody helps"), {.idempotency_key = "o-1"});
    REQUIRE(handed.outputs.size() == 2);
    CHECK(handed.outputs[0].at("type") == "conversation.escalated");
    CHECK(handed.outputs[0].at("reason") == "the model found that the customer needs a person");
    CHECK(handed.outputs[1].at("text") == "A colleague will answer you here.");
    host.set_now_ms(1'796'000'400'000 - 60'000);  // 08:59: closed
    auto closed = bot.run_stage("reply", customer_message("are you open?"), {.idempotency_key = "o-2"});
    REQUIRE(closed.outputs.size() == 1);
    CHECK(closed.outputs[0].at("text") == "We open at 9:00.");
    CHECK(host.http_requests().size() == 1);  // no model call out of hours
    auto skipping = host.create("other", {{"api_key", "sk-test-key"}, {"business_hours", "mon-fri 09:00-18:00"},
                                          {"time_zone", "Asia/Ulaanbaatar"}, {"out_of_hours", "skip"}});
    CHECK(skipping.run_stage("reply", customer_message("hello"), {.idempotency_key = "o-3"}).outputs.empty());
    CHECK_THROWS(host.create("bad", {{"api_key", "k"}, {"out_of_hours", "message"}}));
    CHECK_THROWS(host.create("bad2", {{"api_key", "k"}, {"time_zone", "Nowhere/City"}}));
}

TEST_CASE("ai plugin: recommend asks single-turn with the catalog entries that match the message", "[ai][catalog]") {
    auto host = sbt::fake_host::load(std::string(SWITCHBOARD_PLUGIN_DIR) + "/switchboard-anthropic.so");
    const std::string catalog = std::string(SWITCHBOARD_SOURCE_DIR) + "/tests/fixtures/catalog/nomad-outfitters.csv";
    auto bot = host.create("shop", {{"api_key", "sk-ant"}, {"base_url", "https://anthropic.example.test"},
                                    {"system_prompt", "You sell warm clothes."}, {"catalog_file", catalog}});
    host.add_history("shop", 7, "in", "earlier question");
    host.push_http_reply(sbt::http_reply::json(200, json::parse(R"({"id":"msg_1","type":"message","role":"assistant",
        "model":"claude-3-5-haiku","content":[{"type":"text","text":"Take the down jacket."}],"stop_reason":"end_turn",
        "usage":{"input_tokens":80,"output_tokens":6}})")));
    auto r = bot.run_stage("recommend", customer_message("need something warm, a kurtka maybe"), {.idempotency_key = "r-1"});
    REQUIRE(r.ok());
    REQUIRE(r.outputs.size() == 1);
    CHECK(r.outputs[0].at("text") == "Take the down jacket.");
    CHECK(r.outputs[0].at("generated").at("tier") == "recommend");
    auto body = host.http_requests().at(0).json().as_object();
    CHECK(body.at("messages") == json::parse(R"([{"role":"user","content":"need something warm, a kurtka maybe"}])"));
    const std::string system(body.at("system").as_string());
    CHECK(system.starts_with("You sell warm clothes.\n"));
    CHECK_THAT(system, Catch::Contains("- Winter down jacket — 289000 (in stock: 4)"));
    CHECK_THAT(system, !Catch::Contains("Cashmere scarf"));
    // Nothing matches: the model is told to invent nothing.
    host.push_http_reply(sbt::http_reply::json(200, json::parse(R"({"id":"msg_2","type":"message","role":"assistant",
        "model":"m","content":[{"type":"text","text":"Sorry, we do not sell that."}],"usage":{"input_tokens":1,"output_tokens":1}})")));
    bot.run_stage("recommend", customer_message("do you sell bicycles?"), {.idempotency_key = "r-2"});
    CHECK_THAT(std::string(host.http_requests().at(1).json().at("system").as_string()), Catch::Contains("invent no products"));
    CHECK_THROWS(host.create("bad", {{"api_key", "k"}, {"catalog_file", "/nonexistent/catalog.csv"}}));
}
