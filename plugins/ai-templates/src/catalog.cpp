#include <switchboard/templates/catalog.hpp>
#include <switchboard/templates/text.hpp>

#include <switchboard/sdk/plugin.hpp>

#include "json_document.hpp"

#include <csv.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

namespace switchboard::templates {
namespace {

using sdk::error_kind;
using sdk::plugin_error;

constexpr std::array<std::string_view, 5> columns = {"name", "price", "stock", "description", "keywords"};

[[noreturn]] void bad(std::string_view source, std::size_t line, const std::string& what) {
    throw plugin_error(error_kind::invalid, std::string(source) + ":" + std::to_string(line) + ": " + what);
}

std::string trimmed(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

bool is_number(std::string_view s) {
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc{} && end == s.data() + s.size() && v >= 0;
}

std::optional<int64_t> stock_of(std::string_view s, std::string_view source, std::size_t line) {
    if (s.empty()) return std::nullopt;
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v < 0)
        bad(source, line, "'stock' must be a whole number of 0 or more (or empty: not tracked), got '" + std::string(s) + "'");
    return v;
}

// One CSV record being read: its fields, and the records so far.
struct csv_reader {
    std::vector<std::string> fields;
    std::vector<std::vector<std::string>> records;
    std::vector<std::size_t> lines;  // the line each record starts on
    std::size_t line = 1;            // lines consumed up to the current record's end
};

void on_field(void* s, std::size_t n, void* data) {
    static_cast<csv_reader*>(data)->fields.emplace_back(static_cast<const char*>(s), n);
}

void on_record(int, void* data) {
    auto* r = static_cast<csv_reader*>(data);
    r->records.push_back(std::move(r->fields));
    r->fields.clear();
}

}  // namespace

void product_catalog::add(catalog_entry e, std::string_view source) {
    if (e.name.empty()) bad(source, e.line, "'name' is empty: every entry needs one");
    if (!e.price.empty() && !is_number(e.price))
        bad(source, e.line, "'price' must be a number such as 45000 or 12.50, got '" + e.price + "'");
    const std::size_t tag = entries_.size();
    for (const auto& k : e.keywords)
        if (!index_.add(k, tag)) bad(source, e.line, "keyword '" + k + "' has no letter or digit to match");
    // The name's longer words find it too ("Winter jacket" → "winter", "jacket").
    std::istringstream words(normalize_for_matching(e.name));
    for (std::string w; words >> w;)
        if (utf8_to_u32(w).size() >= 3) index_.add(w, tag);
    entries_.push_back(std::move(e));
}

product_catalog product_catalog::parse_csv(std::string_view text, std::string_view source) {
    csv_reader reader;
    csv_parser parser;
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        throw plugin_error(error_kind::retryable, "cannot start the CSV parser (out of memory)");
    // Feed line by line, so each record knows the line it starts on.
    std::size_t line = 1, start = 0;
    auto fail = [&](std::size_t at) {
        const std::string why = csv_strerror(csv_error(&parser));
        csv_free(&parser);
        bad(source, at, "malformed CSV (" + why + "): check the quotes");
    };
    std::size_t record_line = 1;
    while (start < text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size() - 1) + 1;
        const std::size_t before = reader.records.size();
        if (csv_parse(&parser, text.data() + start, end - start, on_field, on_record, &reader) != end - start) fail(line);
        for (std::size_t i = before; i < reader.records.size(); ++i) reader.lines.push_back(record_line);
        if (reader.records.size() > before) record_line = line + 1;
        ++line;
        start = end;
    }
    const std::size_t before = reader.records.size();
    if (csv_fini(&parser, on_field, on_record, &reader) != 0) fail(line);
    for (std::size_t i = before; i < reader.records.size(); ++i) reader.lines.push_back(record_line);
    csv_free(&parser);

    product_catalog c;
    if (reader.records.empty()) bad(source, 1, "the file is empty: it needs a header row such as name,price,stock,description,keywords");
    std::vector<int> column_of;  // header position → index in `columns`
    for (const auto& raw : reader.records.front()) {
        const std::string h = trimmed(raw);
        auto at = std::find(columns.begin(), columns.end(), h);
        if (at == columns.end())
            bad(source, 1, "unknown column '" + h + "'" + detail::did_you_mean(h, columns) +
                               ": use name, price, stock, description, keywords");
        column_of.push_back(static_cast<int>(at - columns.begin()));
    }
    if (std::find(column_of.begin(), column_of.end(), 0) == column_of.end())
        bad(source, 1, "the header has no 'name' column");
    for (std::size_t r = 1; r < reader.records.size(); ++r) {
        const auto& fields = reader.records[r];
        const std::size_t at = reader.lines[r];
        if (fields.size() == 1 && trimmed(fields[0]).empty()) continue;  // a blank line
        if (fields.size() != column_of.size())
            bad(source, at, "has " + std::to_string(fields.size()) + " fields, the header " + std::to_string(column_of.size()));
        catalog_entry e;
        e.line = at;
        for (std::size_t i = 0; i < fields.size(); ++i) {
            const std::string v = trimmed(fields[i]);
            switch (column_of[i]) {
            case 0: e.name = v; break;
            case 1: e.price = v; break;
            case 2: e.stock = stock_of(v, source, at); break;
            case 3: e.description = v; break;
            default: {
                std::string part;
                std::istringstream parts(v);
                while (std::getline(parts, part, ';'))
                    if (auto k = trimmed(part); !k.empty()) e.keywords.push_back(k);
            }
            }
        }
        c.add(std::move(e), source);
    }
    return c;
}

product_catalog product_catalog::parse_yaml(std::string_view text, std::string_view source) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        bad(source, static_cast<std::size_t>(e.mark.line + 1), "not valid YAML: " + e.msg);
    }
    YAML::Node list = root.IsMap() && root["products"] ? root["products"] : root;
    if (!list.IsSequence())
        bad(source, static_cast<std::size_t>(root.Mark().line + 1),
            "expected a list of entries (or 'products:' holding one), each with name, price, stock, description, keywords");
    product_catalog c;
    for (const auto& item : list) {
        const std::size_t line = static_cast<std::size_t>(item.Mark().line + 1);
        if (!item.IsMap()) bad(source, line, "an entry must be a mapping with name, price, stock, description, keywords");
        catalog_entry e;
        e.line = line;
        for (const auto& kv : item) {
            const std::string key = kv.first.Scalar();
            const YAML::Node& v = kv.second;
            const std::size_t at = static_cast<std::size_t>(kv.first.Mark().line + 1);
            auto scalar = [&]() {
                if (!v.IsScalar() && !v.IsNull()) bad(source, at, "'" + key + "' must be a single value");
                return v.IsNull() ? std::string() : trimmed(v.Scalar());
            };
            if (key == "name") e.name = scalar();
            else if (key == "price") {
                e.price = scalar();
                if (!e.price.empty() && !is_number(e.price))
                    bad(source, at, "'price' must be a number such as 45000 or 12.50, got '" + e.price + "'");
            }
            else if (key == "stock") e.stock = stock_of(scalar(), source, at);
            else if (key == "description") e.description = scalar();
            else if (key == "keywords") {
                if (v.IsScalar()) e.keywords.push_back(trimmed(v.Scalar()));
                else if (v.IsSequence())
                    for (const auto& k : v) {
                        if (!k.IsScalar()) bad(source, at, "'keywords' must be a list of words or phrases");
                        e.keywords.push_back(trimmed(k.Scalar()));
                    }
                else if (!v.IsNull()) bad(source, at, "'keywords' must be a list of words or phrases");
            } else
                bad(source, at, "unknown key '" + key + "'" + detail::did_you_mean(key, columns) +
                                    ": use name, price, stock, description, keywords");
        }
        c.add(std::move(e), source);
    }
    return c;
}

product_catalog product_catalog::load_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw plugin_error(error_kind::invalid, "catalog_file " + file.string() + " cannot be read");
    std::stringstream text;
    text << in.rdbuf();
    const std::string ext = file.extension().string();
    if (ext == ".csv") return parse_csv(text.str(), file.string());
    if (ext == ".yaml" || ext == ".yml") return parse_yaml(text.str(), file.string());
    throw plugin_error(error_kind::invalid, "catalog_file " + file.string() + ": use a .csv, .yaml or .yml file");
}

std::vector<const catalog_entry*> product_catalog::search(std::string_view text, std::size_t limit) const {
    std::map<std::size_t, std::size_t> hits;  // entry → keywords matched
    for (const auto& h : index_.find_all(text)) ++hits[h.tag];
    std::vector<std::pair<std::size_t, std::size_t>> ranked(hits.begin(), hits.end());
    auto in_stock = [&](std::size_t i) { return !entries_[i].stock || *entries_[i].stock > 0; };
    std::stable_sort(ranked.begin(), ranked.end(), [&](const auto& a, const auto& b) {
        if (a.second != b.second) return a.second > b.second;
        return in_stock(a.first) && !in_stock(b.first);
    });
    std::vector<const catalog_entry*> out;
    for (const auto& [i, n] : ranked) {
        if (out.size() == limit) break;
        out.push_back(&entries_[i]);
    }
    return out;
}

std::string describe(const catalog_entry& e, std::string_view locale_code) {
    const bool mn = locale_code == "mn";
    std::string out = e.name;
    if (!e.price.empty()) out += " — " + e.price;
    if (e.stock) {
        if (*e.stock == 0) out += mn ? " (дууссан)" : " (out of stock)";
        else out += (mn ? " (үлдэгдэл: " : " (in stock: ") + std::to_string(*e.stock) + ")";
    }
    if (!e.description.empty()) out += ": " + e.description;
    return out;
}

}  // namespace switchboard::templates
