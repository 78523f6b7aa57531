#include <switchboard/templates/spelling.hpp>
#include <switchboard/templates/text.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace switchboard::templates {
namespace {

bool is_latin_vowel(char32_t c) { return c == U'a' || c == U'e' || c == U'i' || c == U'o' || c == U'u' || c == U'y'; }

// The Latin letter pairs typed for one Cyrillic letter, checked before single letters.
constexpr std::array<std::pair<std::u32string_view, char32_t>, 9> digraphs = {{
    {U"sh", U'ш'}, {U"ch", U'ч'}, {U"ts", U'ц'}, {U"kh", U'х'}, {U"zh", U'ж'},
    {U"ya", U'я'}, {U"yu", U'ю'}, {U"yo", U'ё'}, {U"ye", U'е'},
}};

char32_t single_letter(char32_t c) {
    switch (c) {
    case U'a': return U'а';
    case U'b': return U'б';
    case U'c': return U'ц';
    case U'd': return U'д';
    case U'e': return U'э';
    case U'f': return U'ф';
    case U'g': return U'г';
    case U'h': return U'х';
    case U'i': return U'и';
    case U'j': return U'ж';
    case U'k': return U'к';
    case U'l': return U'л';
    case U'm': return U'м';
    case U'n': return U'н';
    case U'o': return U'о';
    case U'p': return U'п';
    case U'q': return U'ө';
    case U'r': return U'р';
    case U's': return U'с';
    case U't': return U'т';
    case U'u': return U'у';
    case U'w': return U'в';
    case U'x': return U'х';
    case U'y': return U'и';
    case U'z': return U'з';
    case 0xF6: return U'ө';  // ö
    case 0xFC: return U'ү';  // ü
    default: return c;
    }
}

// Colloquial abbreviations, folded, and the folded words they stand for.
struct abbreviation {
    std::u32string_view written;
    std::array<std::u32string_view, 2> meaning;  // second word empty when one
};
constexpr std::array<abbreviation, 14> abbreviations = {{
    {U"бн", {U"баина", U""}},
    {U"бна", {U"баина", U""}},
    {U"ю", {U"юу", U""}},
    {U"болху", {U"болох", U"уу"}},
    {U"болхуу", {U"болох", U"уу"}},
    {U"бну", {U"баина", U"уу"}},
    {U"бнуу", {U"баина", U"уу"}},
    {U"бгаа", {U"баигаа", U""}},
    {U"бх", {U"баих", U""}},
    {U"бхгуи", {U"баихгуи", U""}},
    {U"сн", {U"саин", U""}},
    {U"сну", {U"саин", U"уу"}},
    {U"снуу", {U"саин", U"уу"}},
    {U"хедве", {U"хед", U"ве"}},
}};

std::vector<word> folded(std::vector<word> words) {
    std::vector<word> out;
    out.reserve(words.size());
    for (auto& w : words)
        if (auto f = fold_cyrillic(w); !f.empty()) out.push_back(std::move(f));
    return out;
}

}  // namespace

std::vector<word> split_words(std::string_view normalized) {
    std::vector<word> words;
    word current;
    for (char32_t c : utf8_to_u32(normalized)) {
        if (c == U' ') {
            if (!current.empty()) words.push_back(std::move(current));
            current.clear();
        } else {
            current.push_back(c);
        }
    }
    if (!current.empty()) words.push_back(std::move(current));
    return words;
}

word fold_cyrillic(const word& w) {
    word out;
    out.reserve(w.size());
    for (char32_t c : w) {
        switch (c) {
        case U'ө': c = U'о'; break;
        case U'ү': c = U'у'; break;
        case U'ё':
        case U'э': c = U'е'; break;
        case U'й':
        case U'ы': c = U'и'; break;
        case U'ь':
        case U'ъ': continue;
        default: break;
        }
        if (c == U'и' && !out.empty() && out.back() == U'и') continue;
        if (c == U'с' && !out.empty() && out.back() == U'т') {  // т+с sounds and is typed "ts": ц
            out.back() = U'ц';
            continue;
        }
        out.push_back(c);
    }
    return out;
}

bool has_latin_letter(const word& w) {
    return std::any_of(w.begin(), w.end(), [](char32_t c) {
        return (c >= U'a' && c <= U'z') || (c >= 0xC0 && c <= 0x024F && c != 0xD7 && c != 0xF7);
    });
}

word latin_to_cyrillic(const word& w) {
    word out;
    out.reserve(w.size());
    for (std::size_t i = 0; i < w.size();) {
        const std::u32string_view rest(w.data() + i, w.size() - i);
        auto pair = std::find_if(digraphs.begin(), digraphs.end(), [&](const auto& d) { return rest.starts_with(d.first); });
        if (pair != digraphs.end()) {
            out.push_back(pair->second);
            i += 2;
            continue;
        }
        const char32_t c = w[i];
        if (c == U'v') {
            const bool before_vowel = i + 1 < w.size() && is_latin_vowel(w[i + 1]);
            const bool after_vowel = i > 0 && is_latin_vowel(w[i - 1]) && w[i - 1] != U'y';
            out.push_back(before_vowel || after_vowel ? U'в' : U'ү');
        } else {
            out.push_back(single_letter(c));
        }
        ++i;
    }
    return fold_cyrillic(out);
}

std::vector<word> expand_abbreviations(std::vector<word> words) {
    std::vector<word> out;
    out.reserve(words.size() + 2);
    for (auto& w : words) {
        auto a = std::find_if(abbreviations.begin(), abbreviations.end(), [&](const abbreviation& x) { return x.written == w; });
        if (a == abbreviations.end()) {
            out.push_back(std::move(w));
            continue;
        }
        for (auto m : a->meaning)
            if (!m.empty()) out.emplace_back(m);
    }
    return out;
}

spelling_forms forms_for_matching(std::string_view normalized) {
    spelling_forms forms;
    auto words = folded(split_words(normalized));
    if (std::any_of(words.begin(), words.end(), has_latin_letter)) {
        forms.transliterated.reserve(words.size());
        for (const auto& w : words)
            if (auto t = has_latin_letter(w) ? latin_to_cyrillic(w) : w; !t.empty()) forms.transliterated.push_back(std::move(t));
        forms.transliterated = expand_abbreviations(std::move(forms.transliterated));
    }
    forms.as_written = expand_abbreviations(std::move(words));
    return forms;
}

std::vector<word> keyword_words(std::string_view normalized) { return expand_abbreviations(folded(split_words(normalized))); }

bool same_letter(char32_t a, char32_t b, bool loose) noexcept {
    if (a == b) return true;
    if (!loose) return false;
    auto ou = [](char32_t c) { return c == U'о' || c == U'у'; };
    return ou(a) && ou(b);
}

bool within_one_typo(const word& a, const word& b, bool loose) noexcept {
    const word& longer = a.size() >= b.size() ? a : b;
    const word& shorter = a.size() >= b.size() ? b : a;
    if (longer.size() - shorter.size() > 1) return false;
    std::size_t i = 0;
    while (i < shorter.size() && same_letter(longer[i], shorter[i], loose)) ++i;
    if (i == shorter.size()) return true;  // equal, or one letter appended
    auto tail_equal = [&](std::size_t from_long, std::size_t from_short) {
        if (longer.size() - from_long != shorter.size() - from_short) return false;
        for (; from_long < longer.size(); ++from_long, ++from_short)
            if (!same_letter(longer[from_long], shorter[from_short], loose)) return false;
        return true;
    };
    if (longer.size() != shorter.size()) return tail_equal(i + 1, i);  // one letter inserted at i
    if (tail_equal(i + 1, i + 1)) return true;                           // one letter substituted
    return i + 1 < shorter.size() && same_letter(longer[i], shorter[i + 1], loose) &&
           same_letter(longer[i + 1], shorter[i], loose) && tail_equal(i + 2, i + 2);  // adjacent swap
}

}  // namespace switchboard::templates
