// Lead scoring's keyword tier: the signals found in customers' messages, and templates.score through
// the fake host — points from the signal table accumulated on the contact, HOT/WARM/COLD, the
// events, and a re-run after a crash that counts nothing twice.
#include <switchboard/templates/signals.hpp>

#include <switchboard/sdk/testing.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace json = boost::json;
namespace lead = switchboard::sdk::lead;
namespace sbt = switchboard::sdk::testing;
using switchboard::templates::signal_matcher;

namespace {

std::vector<std::string> names(const std::vector<lead::signal>& signals) {
    std::vector<std::string> out;
    for (auto s : signals) out.emplace_back(lead::signal_name(s));
    return out;
}

json::object message(const char* text, const char* mid) {
    return {{"type", "message.received"},
            {"channel", "messenger"},
            {"provider_message_id", mid},
            {"contact", {{"provider_id", "psid-7"}}},
            {"conversation", {{"id", 3}, {"escalated", false}}},
            {"text", text}};
}

}  // namespace

TEST_CASE("the signal table and the temperature classes", "[templates][lead]") {
    CHECK(lead::points(lead::signal::interested) == 10);
    CHECK(lead::points(lead::signal::urgent) == 15);
    CHECK(lead::points(lead::signal::budget_mentioned) == 20);
    CHECK(lead::points(lead::signal::decision_maker) == 15);
    CHECK(lead::points(lead::signal::comparing) == 5);
    CHECK(lead::points(lead::signal::not_interested) == -20);
    CHECK(lead::points(lead::signal::spam) == -50);
    CHECK(lead::temperature(70) == "HOT");
    CHECK(lead::temperature(69) == "WARM");
    CHECK(lead::temperature(40) == "WARM");
    CHECK(lead::temperature(39) == "COLD");
    CHECK(lead::temperature(-50) == "COLD");
    for (auto s : lead::all_signals) CHECK(lead::parse_signal(lead::signal_name(s)) == s);
    CHECK_FALSE(lead::parse_signal("Interested"));
}

TEST_CASE("keywords find lead signals in English and Mongolian, however typed", "[templates][lead]") {
    const auto& m = signal_matcher::shipped();
    for (auto s : lead::all_signals) CHECK(m.keyword_count(s) >= 5);
    using v = std::vector<std::string>;
    CHECK(names(m.signals("I want this jacket, my budget is 200k, need it today")) ==
          v{"interested", "urgent", "budget_mentioned"});
    CHECK(names(m.signals("we need 20 of these for our company")) == v{"decision_maker"});
    CHECK(names(m.signals("it's cheaper in the other shop")) == v{"comparing"});
    CHECK(names(m.signals("no thanks, too expensive")) == v{"not_interested"});
    CHECK(names(m.signals("Earn money with crypto, click here")) == v{"spam"});
    CHECK(names(m.signals("энийг авмаар байна, яаралтай")) == v{"interested", "urgent"});
    CHECK(names(m.signals("eniig avmaar bn yaraltai")) == v{"interested", "urgent"});
    CHECK(names(m.signals("манай компанид 50 ширхэг хэрэгтэй, төсөв 2 сая")) == v{"budget_mentioned", "decision_maker"});
    CHECK(names(m.signals("хэрэггүй ээ баярлалаа")) == v{"not_interested"});
    CHECK(m.signals("hello").empty());
    CHECK(m.signals("").empty());
}

TEST_CASE("templates.score accumulates on the contact, classifies and counts a re-run once", "[templates][lead]") {
    auto host = sbt::fake_host::load(std::string(SWITCHBOARD_PLUGIN_DIR) + "/switchboard-templates.so");
    auto bot = host.create("shop", {});

    auto first = bot.run_stage("score", message("I want the blue one, need it today", "m-1"), {.idempotency_key = "s-1"});
    REQUIRE(first.ok());
    REQUIRE(first.outputs.size() == 1);
    const auto& scored = first.outputs[0];
    CHECK(scored.at("type") == "lead.scored");
    CHECK(scored.at("score") == 25);
    CHECK(scored.at("delta") == 25);
    CHECK(scored.at("temperature") == "COLD");
    CHECK(scored.at("signals") == json::array{"interested", "urgent"});
    CHECK(scored.at("source") == "keywords");
    CHECK(scored.at("contact").at("provider_id") == "psid-7");
    CHECK(scored.at("conversation_id") == 3);

    // 25 + 20 = 45: WARM, and the class change is its own event.
    auto second = bot.run_stage("score", message("my budget is 300000 tugrik", "m-2"), {.idempotency_key = "s-2"});
    REQUIRE(second.outputs.size() == 2);
    CHECK(second.outputs[0].at("score") == 45);
    CHECK(second.outputs[1].at("type") == "lead.temperature_changed");
    CHECK(second.outputs[1].at("from") == "COLD");
    CHECK(second.outputs[1].at("to") == "WARM");

    // The same message again (a crash after scoring): the same events, no second count.
    auto rerun = bot.run_stage("score", message("my budget is 300000 tugrik", "m-2"), {.idempotency_key = "s-2"});
    REQUIRE(rerun.outputs.size() == 2);
    CHECK(rerun.outputs[0].at("score") == 45);
    CHECK(host.contact("shop", "messenger", "psid-7")->at("score").to_number<double>() == 45.0);

    // 45 + 15 + 15 = 75: HOT; then spam drags it to COLD.
    auto hot = bot.run_stage("score", message("for our company, urgent", "m-3"), {.idempotency_key = "s-3"});
    CHECK(hot.outputs.at(0).at("score") == 75);
    CHECK(hot.outputs.at(1).at("to") == "HOT");
    auto cold = bot.run_stage("score", message("casino bonus, earn money", "m-4"), {.idempotency_key = "s-4"});
    CHECK(cold.outputs.at(0).at("score") == 25);
    CHECK(cold.outputs.at(1).at("from") == "HOT");
    CHECK(cold.outputs.at(1).at("to") == "COLD");

    // Nothing to score: no events.
    CHECK(bot.run_stage("score", message("hello", "m-5"), {.idempotency_key = "s-5"}).outputs.empty());
    json::object status{{"type", "message.status"}, {"channel", "messenger"}, {"status", "read"}, {"watermark_ms", 1}};
    CHECK(bot.run_stage("score", status, {.idempotency_key = "s-6"}).outputs.empty());
    // Message texts never reach the log.
    for (auto& l : host.logs()) CHECK(l.text.find("budget") == std::string::npos);
}

TEST_CASE("templates.handoff escalates on the tenant's keywords and after N bot replies, once", "[templates][handoff]") {
    auto host = sbt::fake_host::load(std::string(SWITCHBOARD_PLUGIN_DIR) + "/switchboard-templates.so");
    auto bot = host.create("shop", {{"escalation_keywords", R"(["lawyer", "эмч*"])"}, {"auto_escalate_after", "2"}});
    auto run = [&](const char* text, const char* key, bool escalated = false) {
        auto event = message(text, key);
        event["conversation"].as_object()["escalated"] = escalated;
        auto r = bot.run_stage("handoff", event, {.idempotency_key = key});
        REQUIRE(r.ok());
        return r.outputs;
    };
    // The tenant's own keyword (and the shipped handoff words) hand over at once.
    auto lawyer = run("I will call my lawyer", "h-1");
    REQUIRE(lawyer.size() == 2);
    CHECK(lawyer[0].at("type") == "conversation.escalated");
    CHECK(lawyer[0].at("reason") == "escalation keyword");
    CHECK(lawyer[1].at("type") == "message.send");
    CHECK(lawyer[1].at("intent") == "handoff");
    CHECK(run("эмчтэй ярих уу", "h-2").at(0).at("reason") == "escalation keyword");
    CHECK(run("operator please", "h-3").at(0).at("reason") == "customer asked for a human");
    CHECK(run("operator please", "h-4", true).empty());  // already with a person: nothing
    // Two messages the bot answers (a re-run of one counts once), then the third is handed over.
    CHECK(run("how much is it", "h-5").empty());
    CHECK(run("how much is it", "h-5").empty());
    CHECK(run("and in red?", "h-6").empty());
    auto third = run("and in blue?", "h-7");
    REQUIRE(third.size() == 2);
    CHECK(third[0].at("reason") == "auto_escalate_after 2 bot replies");
    // Counting starts again after a handoff.
    CHECK(run("thanks", "h-8").empty());
    // Keywords without a letter are refused when the tenant is configured.
    CHECK_THROWS(host.create("bad", {{"escalation_keywords", R"(["!!"])"}}));
}
