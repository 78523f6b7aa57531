// OpenAI reply tier: Chat Completions (POST {base_url}/chat/completions, Bearer key). The base URL
// also serves OpenAI-compatible servers (vLLM, llama.cpp server, Ollama). Logic in plugins/lib/ai.
#include <switchboard/ai/responder.hpp>

namespace {
namespace ai = switchboard::ai;

const ai::provider_profile openai{"OpenAI", "OPENAI_API_KEY", "https://api.openai.com/v1", "gpt-4o-mini",
                                  ai::openai_request, ai::openai_answer};

class openai_instance : public ai::responder {
public:
    openai_instance(const switchboard::sdk::host& host, const switchboard::sdk::settings& s)
        : responder(host, s, openai) {}
};

const switchboard::sdk::plugin_info info =
    ai::responder_info(openai, "openai", "OpenAI Chat Completions reply tier (and OpenAI-compatible servers)");
}  // namespace

SWITCHBOARD_PLUGIN(openai_instance, info)
