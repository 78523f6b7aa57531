#include <switchboard/ai/chat.hpp>

#include <switchboard/sdk/json_fields.hpp>

namespace switchboard::ai {
namespace json = boost::json;
namespace fields = sdk::json_fields;
using sdk::error_kind;
using sdk::plugin_error;

std::vector<turn> turns_from_history(const json::array& history, std::string_view latest) {
    std::vector<turn> turns;
    auto add = [&](std::string role, std::string text) {
        if (text.empty()) return;
        if (turns.empty() && role == "assistant") return;
        if (!turns.empty() && turns.back().role == role) {
            turns.back().text += "\n" + text;
            return;
        }
        turns.push_back({std::move(role), std::move(text)});
    };
    for (auto& entry : history)
        if (auto* o = entry.if_object())
            add(fields::text_at(*o, "direction") == "out" ? "assistant" : "user", fields::text_at(*o, "text"));
    const bool ends_with_latest = !turns.empty() && turns.back().role == "user" &&
                                  turns.back().text.size() >= latest.size() &&
                                  turns.back().text.compare(turns.back().text.size() - latest.size(), latest.size(), latest) == 0;
    if (!latest.empty() && !ends_with_latest) add("user", std::string(latest));
    return turns;
}

namespace {

sdk::http_call post_json(std::string url, std::vector<std::pair<std::string, std::string>> headers,
                         const json::object& body, unsigned timeout_ms) {
    sdk::http_call call;
    call.method = "POST";
    call.url = std::move(url);
    call.headers = std::move(headers);
    call.headers.emplace_back("Content-Type", "application/json");
    call.body = json::serialize(body);
    call.timeout_ms = timeout_ms;
    return call;
}

const json::object* answer_object(std::string_view provider, const sdk::http_response& response, json::value& holder) {
    if (response.status < 200 || response.status >= 300) throw classify(provider, response);
    boost::system::error_code ec;
    holder = json::parse(response.body, ec);
    if (ec || !holder.is_object())
        throw plugin_error(error_kind::retryable, std::string(provider) + " answered HTTP " +
                                                      std::to_string(response.status) + " with a body that is not JSON");
    return &holder.as_object();
}

}  // namespace

sdk::http_call openai_request(const model_call& c, const std::vector<turn>& turns) {
    json::array messages;
    if (!c.system_prompt.empty()) messages.push_back({{"role", "system"}, {"content", c.system_prompt}});
    for (auto& t : turns) messages.push_back({{"role", t.role}, {"content", t.text}});
    json::object body{{"model", c.model}, {"messages", std::move(messages)}, {"temperature", c.temperature},
                      {"max_tokens", c.max_tokens}};
    if (c.json_object) body["response_format"] = {{"type", "json_object"}};
    return post_json(c.base_url + "/chat/completions", {{"Authorization", "Bearer " + c.api_key}}, body, c.timeout_ms);
}

generated openai_answer(const sdk::http_response& response) {
    json::value holder;
    const json::object* root = answer_object("OpenAI", response, holder);
    generated g;
    if (auto* choices = fields::array_at(*root, "choices"); choices && !choices->empty() && choices->front().is_object())
        if (auto* message = fields::object_at(choices->front().as_object(), "message"))
            g.text = fields::text_at(*message, "content");
    if (g.text.empty())
        throw plugin_error(error_kind::retryable, "OpenAI answered without choices[0].message.content", "empty_answer");
    g.model = fields::text_at(*root, "model");
    if (auto* usage = fields::object_at(*root, "usage")) {
        g.prompt_tokens = fields::int_at(*usage, "prompt_tokens").value_or(0);
        g.completion_tokens = fields::int_at(*usage, "completion_tokens").value_or(0);
    }
    return g;
}

sdk::http_call anthropic_request(const model_call& c, const std::vector<turn>& turns) {
    json::array messages;
    for (auto& t : turns) messages.push_back({{"role", t.role}, {"content", t.text}});
    json::object body{{"model", c.model}, {"max_tokens", c.max_tokens}, {"messages", std::move(messages)},
                      {"temperature", c.temperature}};
    if (!c.system_prompt.empty()) body["system"] = c.system_prompt;
    return post_json(c.base_url + "/v1/messages", {{"x-api-key", c.api_key}, {"anthropic-version", "2023-06-01"}},
                     body, c.timeout_ms);
}

generated anthropic_answer(const sdk::http_response& response) {
    json::value holder;
    const json::object* root = answer_object("Anthropic", response, holder);
    generated g;
    if (auto* content = fields::array_at(*root, "content"))
        for (auto& block : *content)
            if (auto* b = block.if_object(); b && fields::text_at(*b, "type") == "text")
                g.text += (g.text.empty() ? "" : "\n") + fields::text_at(*b, "text");
    if (g.text.empty())
        throw plugin_error(error_kind::retryable, "Anthropic answered without a text content block", "empty_answer");
    g.model = fields::text_at(*root, "model");
    if (auto* usage = fields::object_at(*root, "usage")) {
        g.prompt_tokens = fields::int_at(*usage, "input_tokens").value_or(0);
        g.completion_tokens = fields::int_at(*usage, "output_tokens").value_or(0);
    }
    return g;
}

plugin_error classify(std::string_view provider, const sdk::http_response& response) {
    std::string type, message;
    boost::system::error_code ec;
    json::value v = json::parse(response.body, ec);
    if (!ec && v.is_object())
        if (auto* err = fields::object_at(v.as_object(), "error")) {
            type = fields::text_at(*err, "type");
            if (type.empty()) type = fields::text_at(*err, "code");
            message = fields::text_at(*err, "message");
        }
    std::string what = std::string(provider) + " answered HTTP " + std::to_string(response.status);
    if (!type.empty()) what += " (" + type + ")";
    if (!message.empty()) what += ": " + message.substr(0, 300);
    const std::string code = type.empty() ? "http_" + std::to_string(response.status) : type;
    const int s = response.status;
    if (s == 400 || s == 401 || s == 403 || s == 404 || s == 422) return plugin_error(error_kind::final, what, code);
    if (s == 429) {
        int64_t wait = response.retry_after_ms();
        return plugin_error(error_kind::retryable,
                            what + (wait > 0 ? " (retry after " + std::to_string(wait / 1000) + " s)" : ""), code);
    }
    return plugin_error(error_kind::retryable, what, code);
}

}  // namespace switchboard::ai
