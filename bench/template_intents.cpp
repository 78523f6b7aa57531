// Measures the template responder's intent recognition on the labelled customer messages under
// tests/data/intents/ (one file per language group): accuracy per group and per intent, the
// confident wrong answers (a keyword intent where a person would have answered otherwise), and how
// many messages per second the matcher classifies.
//
//   switchboard_bench_template_intents [--misses] [FILE.tsv ...]
//   Without files: every tests/data/intents/*.tsv of the source tree.
#include <switchboard/templates/evaluation.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

using namespace switchboard::templates;

int main(int argc, char** argv) {
    bool show_misses = false;
    std::vector<std::filesystem::path> files;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--misses") == 0)
            show_misses = true;
        else
            files.emplace_back(argv[i]);
    }
    if (files.empty()) {
        for (const auto& entry : std::filesystem::directory_iterator(SWITCHBOARD_SOURCE_DIR "/tests/data/intents"))
            if (entry.path().extension() == ".tsv") files.push_back(entry.path());
        std::sort(files.begin(), files.end());
    }
    const intent_matcher& matcher = intent_matcher::shipped();
    std::printf("%-14s %6s %9s %9s  %s\n", "group", "total", "accuracy", "conf.wrong", "per intent (correct/total)");
    for (const auto& file : files) {
        const auto set = read_labelled_set(file);
        const evaluation e = evaluate(matcher, set);
        std::string per_intent;
        for (intent i : all_intents)
            if (e.expected_count[index_of(i)])
                per_intent += std::string(intent_name(i)) + " " + std::to_string(e.correct_count[index_of(i)]) + "/" +
                              std::to_string(e.expected_count[index_of(i)]) + "  ";
        std::printf("%-14s %6zu %9.3f %9zu  %s\n", file.stem().c_str(), e.total, e.accuracy(), e.confidently_wrong,
                    per_intent.c_str());
        if (show_misses)
            for (const auto& [m, chosen] : e.misses)
                std::printf("    %s:%zu expected %s, chose %s: %s\n", file.filename().c_str(), m->line,
                            std::string(intent_name(m->expected)).c_str(), std::string(intent_name(chosen)).c_str(),
                            m->text.c_str());

        // Throughput: classify the whole set repeatedly for about half a second.
        std::size_t classified = 0;
        const auto start = std::chrono::steady_clock::now();
        auto elapsed = std::chrono::duration<double>::zero();
        while (elapsed.count() < 0.5) {
            for (const auto& m : set) { volatile bool hit = matcher.match(m.text).has_value(); (void)hit; ++classified; }
            elapsed = std::chrono::steady_clock::now() - start;
        }
        std::printf("    %.0f messages/s classified\n", static_cast<double>(classified) / elapsed.count());
    }
}
