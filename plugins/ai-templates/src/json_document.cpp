#include "json_document.hpp"

#include <switchboard/sdk/text.hpp>

#include <switchboard/templates/template_store.hpp>

#include <boost/json/stream_parser.hpp>

namespace switchboard::templates::detail {
namespace {

std::string position(std::string_view text, std::size_t offset) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        auto b = static_cast<unsigned char>(text[i]);
        if (b == '\n') {
            ++line;
            column = 1;
        } else if ((b & 0xC0) != 0x80) {  // count characters, not UTF-8 continuation bytes
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

boost::json::value parse_json_document(std::string_view text, std::string_view source, sdk::error_kind kind) {
    boost::json::stream_parser parser;
    boost::system::error_code ec;
    std::size_t used = parser.write_some(text.data(), text.size(), ec);
    if (ec)
        throw sdk::plugin_error(kind, std::string(source) + ": invalid JSON at " + position(text, used) + " (" +
                                          ec.message() + "): fix the file or remove it");
    std::size_t rest = text.find_first_not_of(" \t\r\n", used);
    if (rest != std::string_view::npos && parser.done())
        throw sdk::plugin_error(kind, std::string(source) + ": text after the JSON document at " + position(text, rest) +
                                          ": a file holds one JSON object");
    parser.finish(ec);
    if (ec)
        throw sdk::plugin_error(kind, std::string(source) + ": invalid JSON at " + position(text, text.size()) + " (" +
                                          ec.message() + "): the document ends early");
    return parser.release();
}

std::string did_you_mean(std::string_view name, std::span<const std::string_view> candidates) {
    auto best = switchboard::sdk::text::did_you_mean(name, candidates);
    return best ? " (did you mean '" + *best + "'?)" : std::string();
}

std::string_view describe_kind(const boost::json::value& v) {
    switch (v.kind()) {
    case boost::json::kind::object: return "an object";
    case boost::json::kind::array: return "an array";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::bool_: return "a boolean";
    case boost::json::kind::null: return "null";
    default: return "a number";
    }
}

}  // namespace switchboard::templates::detail
