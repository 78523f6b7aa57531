// switchboard/ai/chat.hpp — what the model-backed AI plugins (ai-openai, ai-anthropic) share: the
// conversation as chat turns, the request and answer formats of each provider, and how their
// errors classify. Pure functions; the caller performs the HTTP request.
//
// OpenAI Chat Completions (platform.openai.com/docs/api-reference/chat/create):
//   POST {base_url}/chat/completions, "Authorization: Bearer <key>",
//   {"model", "messages": [{"role": "system"|"user"|"assistant", "content"}], "temperature", "max_tokens"}
//   → {"choices": [{"message": {"content"}, "finish_reason"}], "usage": {"prompt_tokens", "completion_tokens"}, "model"}
//   errors: {"error": {"message", "type", "code"}}. Also served by OpenAI-compatible servers
//   (vLLM, llama.cpp server, Ollama).
// Anthropic Messages (docs.anthropic.com/en/api/messages):
//   POST {base_url}/v1/messages, "x-api-key", "anthropic-version: 2023-06-01",
//   {"model", "max_tokens", "system", "messages": [{"role": "user"|"assistant", "content"}], "temperature"}
//   → {"content": [{"type": "text", "text"}], "usage": {"input_tokens", "output_tokens"}, "model", "stop_reason"}
//   errors: {"type": "error", "error": {"type", "message"}}; 529 overloaded_error.
#pragma once

#include <switchboard/sdk/host.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::ai {

/// One turn of the conversation as a model reads it.
struct turn {
    std::string role;  ///< "user" (the customer) or "assistant" (our replies)
    std::string text;
};

/// The conversation's turns from sb_host_api.conversation_history (oldest first, entries
/// {"direction": "in"|"out", "text"}): in → user, out → assistant, empty texts dropped,
/// consecutive turns of one role merged (joined by a newline), leading assistant turns dropped
/// (both providers want the user first). `latest` (the message being answered) is appended as a
/// user turn unless the history already ends with it.
std::vector<turn> turns_from_history(const boost::json::array& history, std::string_view latest);

/// A model's settings for one call.
struct model_call {
    std::string base_url;      ///< no trailing '/'
    std::string api_key;
    std::string model;
    std::string system_prompt; ///< "" = none
    double temperature = 0.7;
    int64_t max_tokens = 300;
    unsigned timeout_ms = 8000;
    /// Ask for a JSON object answer: OpenAI's "response_format": {"type": "json_object"} (also
    /// understood by vLLM, llama.cpp server and Ollama); Anthropic has no such switch (the
    /// instructions ask for it).
    bool json_object = false;
};

/// What a model answered.
struct generated {
    std::string text;
    std::string model;
    int64_t prompt_tokens = 0;
    int64_t completion_tokens = 0;
    int64_t latency_ms = 0;  ///< how long the model took (ms), measured on the host clock
    bool reused = false;     ///< read back from a generation before a crash or retry, not asked again
};

/// The Chat Completions request for `turns` (system prompt as the first message).
sdk::http_call openai_request(const model_call& call, const std::vector<turn>& turns);
/// Reads a Chat Completions answer. @throws sdk::plugin_error per classify().
generated openai_answer(const sdk::http_response& response);

/// The Messages request for `turns` (system prompt as the top-level "system").
sdk::http_call anthropic_request(const model_call& call, const std::vector<turn>& turns);
/// Reads a Messages answer (the text blocks of "content", joined). @throws sdk::plugin_error per classify().
generated anthropic_answer(const sdk::http_response& response);

/// The error for a failed model call: 400, 401, 403, 404 and 422 are final (a wrong key, model
/// or request: the next tier answers, the admin must act); 429 (with retry-after), 529
/// (overloaded), 5xx and unreadable successes are retryable — within a fallback chain each
/// failure falls through to the next tier at once. The message names the provider, the status and
/// the provider's error type and message; it never contains the prompt or the key.
sdk::plugin_error classify(std::string_view provider, const sdk::http_response& response);

}  // namespace switchboard::ai
