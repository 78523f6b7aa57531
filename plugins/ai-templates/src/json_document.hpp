// Private helpers shared by the catalog and template loaders.
#pragma once

#include <switchboard/sdk/plugin.hpp>

#include <boost/json/value.hpp>
#include <span>
#include <string>
#include <string_view>

namespace switchboard::templates::detail {

/// Parses one whole JSON document (strict JSON: no comments, no trailing commas).
/// @param source  what to call the document in the message (a file name)
/// @throws sdk::plugin_error(kind) "<source>: invalid JSON at line L, column C (<reason>)" with a 1-based
///         line and a column counted in characters, or "...: text after the JSON document at ...".
boost::json::value parse_json_document(std::string_view text, std::string_view source, sdk::error_kind kind);

/// What `build(document, file)` makes of a share/templates/ file embedded at build time. Any
/// plugin_error it raises is a build defect, rethrown as plugin_error(final) "the embedded <what>
/// is broken: <reason> (fix it and rebuild the plugin)".
template <typename Build>
auto from_embedded(std::string_view text, std::string_view file, std::string_view what, Build&& build) {
    try {
        return build(parse_json_document(text, file, sdk::error_kind::final), file);
    } catch (const sdk::plugin_error& e) {
        throw sdk::plugin_error(sdk::error_kind::final, "the embedded " + std::string(what) + " is broken: " + e.what() +
                                                            " (fix it and rebuild the plugin)");
    }
}

/// " (did you mean 'x'?)" for the candidate closest to `name` by edit distance when it is at most 2
/// edits away, else "".
std::string did_you_mean(std::string_view name, std::span<const std::string_view> candidates);

/// A JSON value's kind for messages: "an object", "a string", "a number", ...
std::string_view describe_kind(const boost::json::value& v);

}  // namespace switchboard::templates::detail
