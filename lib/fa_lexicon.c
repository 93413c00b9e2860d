/* fa_lexicon.c: fa's own finance sentiment word lists and the scorer
 * (negation window, intensifiers) the offline analyst uses. */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fa_lexicon.h"
#include "fa_banned.h"

/* Base forms; simple inflections (-s, -es, -ies, -ed, -d, -ing) are
 * stripped when the word itself is not listed. */
static const char *const positive[] = {
    "accelerate", "accelerating", "accretive",     "advance",     "advantage",   "all-time",
    "approval",   "approve",      "attractive",    "award",       "beat",        "benefit",
    "best",       "better",       "blockbuster",   "blowout",     "bolster",     "boom",
    "boost",      "breakout",     "breakthrough",  "bullish",     "buyback",     "climb",
    "confident",  "confidence",   "dividend",      "efficient",   "encouraging", "excellent",
    "exceed",     "expand",       "expansion",     "favorable",   "favourable",  "gain",
    "grew",       "grow",         "growth",        "healthy",     "high",        "higher",
    "highest",    "impressive",   "improve",       "improvement", "innovation",  "innovative",
    "jump",       "lead",         "leader",        "leading",     "milestone",   "momentum",
    "optimism",   "optimistic",   "outpace",       "outperform",  "overweight",  "partnership",
    "positive",   "profit",       "profitability", "profitable",  "rally",       "rebound",
    "record",     "recover",      "recovery",      "resilient",   "reward",      "rise",
    "rising",     "robust",       "rose",          "skyrocket",   "soar",        "solid",
    "stellar",    "strength",     "strengthen",    "strong",      "stronger",    "strongest",
    "succeed",    "success",      "successful",    "surge",       "surpass",     "tailwind",
    "thrive",     "top",          "topped",        "triumph",     "upbeat",      "upgrade",
    "upside",     "uptrend",      "upturn",        "win",         "windfall",    "winner",
    "won",
};

static const char *const negative[] = {
    "allegation", "allege",        "antitrust",    "bankrupt",      "bankruptcy",   "bearish",
    "bleak",      "breach",        "burden",       "cancel",        "cancellation", "closure",
    "collapse",   "complaint",     "concern",      "contraction",   "crash",        "crisis",
    "cut",        "damage",        "decline",      "default",       "deficit",      "delay",
    "delist",     "dilution",      "disappoint",   "disappointing", "dismal",       "dispute",
    "downgrade",  "downside",      "downturn",     "drop",          "erode",        "erosion",
    "fail",       "failure",       "fall",         "fallen",        "fell",         "fined",
    "fraud",      "glut",          "grim",         "halt",          "headwind",     "hurt",
    "impairment", "investigation", "lawsuit",      "layoff",        "liability",    "litigation",
    "lose",       "loss",          "lost",         "low",           "lower",        "lowest",
    "miss",       "negative",      "outage",       "penalty",       "pessimism",    "pessimistic",
    "plummet",    "plunge",        "poor",         "probe",         "recall",       "recession",
    "resign",     "resignation",   "restatement",  "retreat",       "sanction",     "scandal",
    "selloff",    "setback",       "shortfall",    "shrink",        "shutdown",     "sink",
    "slash",      "slide",         "slow",         "slowdown",      "slump",        "sank",
    "squeeze",    "strike",        "struggle",     "subpoena",      "sue",          "suspend",
    "tumble",     "turmoil",       "underperform", "underweight",   "violation",    "warn",
    "warning",    "weak",          "weaken",       "weaker",        "weakness",     "worse",
    "worsen",     "worst",         "writedown",    "write-down",
};

static const char *const uncertain[] = {
    "ambiguous",   "approximate", "approximately", "cautious",    "caution",       "contingent",
    "could",       "depend",      "doubt",         "fluctuate",   "fluctuation",   "maybe",
    "may",         "might",       "mixed",         "pending",     "perhaps",       "possible",
    "possibly",    "potential",   "potentially",   "reportedly",  "risk",          "risky",
    "rumor",       "rumour",      "speculate",     "speculation", "tentative",     "uncertain",
    "uncertainty", "unclear",     "unconfirmed",   "unknown",     "unpredictable", "unsettled",
    "unproven",    "volatile",    "volatility",
};

static const char *const negators[] = {
    "ain't",   "aren't",  "barely",  "cannot", "can't",    "couldn't", "didn't",
    "doesn't", "don't",   "hardly",  "isn't",  "lack",     "lacks",    "neither",
    "never",   "no",      "none",    "nor",    "not",      "nothing",  "shouldn't",
    "wasn't",  "weren't", "without", "won't",  "wouldn't",
};

static const char *const intensifiers[] = {
    "deeply",  "dramatically", "especially",    "extremely", "highly",        "hugely",
    "massive", "massively",    "sharp",         "sharply",   "significantly", "steep",
    "steeply", "strongly",     "substantially", "very",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct entry {
    const char *word;
    enum fa_lexicon_class cls;
};

static struct entry table[N(positive) + N(negative) + N(uncertain)];
static size_t ntable;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->word, ((const struct entry *)b)->word);
}

static void add_list(const char *const *list, size_t n, enum fa_lexicon_class cls)
{
    for (size_t i = 0; i < n; i++) {
        table[ntable].word = list[i];
        table[ntable].cls = cls;
        ntable++;
    }
}

static void build_table(void)
{
    add_list(positive, N(positive), FA_LEXICON_POSITIVE);
    add_list(negative, N(negative), FA_LEXICON_NEGATIVE);
    add_list(uncertain, N(uncertain), FA_LEXICON_UNCERTAIN);
    qsort(table, ntable, sizeof table[0], cmp_entry);
}

static enum fa_lexicon_class exact(const char *w)
{
    struct entry key = {w, FA_LEXICON_NONE};
    const struct entry *e = bsearch(&key, table, ntable, sizeof table[0], cmp_entry);

    return e ? e->cls : FA_LEXICON_NONE;
}

static int in_list(const char *const *list, size_t n, const char *w)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], w) == 0)
            return 1;
    return 0;
}

enum fa_lexicon_class fa_lexicon_word(const char *word)
{
    static const struct {
        const char *suffix, *repl;
    } rules[] = {{"ies", "y"},  {"ing", ""},   {"ing", "e"},  {"es", ""},   {"ed", ""},
                 {"ed", "e"},   {"s", ""},     {"d", ""},     {"led", "l"}, {"ped", "p"},
                 {"ging", "g"}, {"ming", "m"}, {"ting", "t"}, {"ted", "t"}};
    enum fa_lexicon_class c;
    size_t len = strlen(word);
    char buf[64];

    pthread_once(&table_once, build_table);
    if ((c = exact(word)) != FA_LEXICON_NONE)
        return c;
    for (size_t i = 0; i < N(rules); i++) {
        size_t sl = strlen(rules[i].suffix), rl = strlen(rules[i].repl);
        if (len <= sl + 2 || len - sl + rl >= sizeof buf ||
            strcmp(word + len - sl, rules[i].suffix) != 0)
            continue;
        memcpy(buf, word, len - sl);
        memcpy(buf + len - sl, rules[i].repl, rl + 1);
        if ((c = exact(buf)) != FA_LEXICON_NONE)
            return c;
    }
    return FA_LEXICON_NONE;
}

static int word_byte(int c)
{
    return isalnum(c) || c == '\'' || c == '-';
}

void fa_lexicon_score(const char *text, struct fa_lexicon_score *out)
{
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    long idx = 0, last_neg = -100;
    int intens = 0;
    char w[64];

    memset(out, 0, sizeof *out);
    while (*p) {
        size_t n = 0;
        enum fa_lexicon_class c;
        double weight;

        if (!word_byte(*p)) {
            if (*p == '.' || *p == '!' || *p == '?' || *p == ';' || *p == ':')
                last_neg = -100, intens = 0; /* negation ends with the clause */
            p++;
            continue;
        }
        while (*p && word_byte(*p)) {
            if (n < sizeof w - 1)
                w[n++] = (char)tolower(*p);
            p++;
        }
        /* trim leading/trailing apostrophes and hyphens */
        while (n && (w[n - 1] == '\'' || w[n - 1] == '-'))
            n--;
        w[n] = 0;
        {
            size_t s = 0;
            while (s < n && (w[s] == '\'' || w[s] == '-'))
                s++;
            if (s)
                memmove(w, w + s, n - s + 1), n -= s;
        }
        if (!n)
            continue;
        out->words++;
        idx++;
        if (in_list(negators, N(negators), w) || (n > 3 && strcmp(w + n - 3, "n't") == 0)) {
            last_neg = idx;
            intens = 0;
            continue;
        }
        c = fa_lexicon_word(w);
        weight = intens ? 1.5 : 1.0;
        intens = in_list(intensifiers, N(intensifiers), w);
        if (c == FA_LEXICON_UNCERTAIN) {
            out->uncertain++;
            continue;
        }
        if (c == FA_LEXICON_NONE)
            continue;
        if (idx - last_neg <= 3) {
            out->negated++;
            c = c == FA_LEXICON_POSITIVE ? FA_LEXICON_NEGATIVE : FA_LEXICON_POSITIVE;
        }
        if (c == FA_LEXICON_POSITIVE)
            out->positive += weight;
        else
            out->negative += weight;
    }
    out->score = (out->positive - out->negative) / (out->positive + out->negative + 1.0);
    out->label = out->score >= 0.2 ? "positive" : out->score <= -0.2 ? "negative" : "neutral";
}
