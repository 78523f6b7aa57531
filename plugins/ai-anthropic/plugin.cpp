// Anthropic reply tier: the Messages API (POST {base_url}/v1/messages, x-api-key,
// anthropic-version 2023-06-01, the system prompt top-level). Logic in plugins/lib/ai.
#include <switchboard/ai/responder.hpp>

namespace {
namespace ai = switchboard::ai;

const ai::provider_profile anthropic{"Anthropic", "ANTHROPIC_API_KEY", "https://api.anthropic.com",
                                     "claude-3-5-haiku-latest", ai::anthropic_request, ai::anthropic_answer};

class anthropic_instance : public ai::responder {
public:
    anthropic_instance(const switchboard::sdk::host& host, const switchboard::sdk::settings& s)
        : responder(host, s, anthropic) {}
};

const switchboard::sdk::plugin_info info =
    ai::responder_info(anthropic, "anthropic", "Anthropic Messages API reply tier");
}  // namespace

SWITCHBOARD_PLUGIN(anthropic_instance, info)
