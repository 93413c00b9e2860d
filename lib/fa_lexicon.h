/* fa_lexicon.h: a small finance sentiment lexicon of our own and a scorer.
 *
 * Three word lists (positive: beat, surge, upgrade, record...; negative:
 * miss, plunge, downgrade, lawsuit...; uncertainty: may, uncertain,
 * volatile...), matched on lowercased words (a few inflections listed).
 * A negator (not, no, never, without, fails to, "n't"...) within the three
 * words before a polar word flips its sign; an intensifier (sharply,
 * significantly, record...) just before it weighs it 1.5. The offline
 * analyst scores each news item with it. */
#ifndef FA_LEXICON_H
#define FA_LEXICON_H

enum fa_lexicon_class {
    FA_LEXICON_NONE = 0,
    FA_LEXICON_POSITIVE = 1,
    FA_LEXICON_NEGATIVE = 2,
    FA_LEXICON_UNCERTAIN = 3,
};

/* A text's sentiment. */
struct fa_lexicon_score {
    double score;      /* (pos - neg) / (pos + neg + 1), weighted sums after
                          negation: in (-1, 1); 0 for no polar words */
    double positive;   /* weighted positive evidence (after negation) */
    double negative;   /* weighted negative evidence (after negation) */
    int uncertain;     /* uncertainty words */
    int negated;       /* polar words flipped by a negator */
    int words;         /* words in the text */
    const char *label; /* "positive" (score >= 0.2), "negative"
                          (score <= -0.2), else "neutral"; static */
};

/* Scores text (UTF-8; non-ASCII bytes separate words). NULL scores as
 * empty. */
void fa_lexicon_score(const char *text, struct fa_lexicon_score *out);

/* The class of one lowercase word. */
enum fa_lexicon_class fa_lexicon_word(const char *word);

#endif
