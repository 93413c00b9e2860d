/* test_lexicon.c: the finance lexicon: word classes with inflections,
 * negation window, intensifiers, labels. */
#include <string.h>

#include "tap.h"
#include "fa_lexicon.h"
#include "fa_banned.h"

static struct fa_lexicon_score sc(const char *t)
{
    struct fa_lexicon_score s;

    fa_lexicon_score(t, &s);
    return s;
}

int main(void)
{
    struct fa_lexicon_score s;

    ok(fa_lexicon_word("beat") == FA_LEXICON_POSITIVE, "beat positive");
    ok(fa_lexicon_word("surged") == FA_LEXICON_POSITIVE, "surged (inflected) positive");
    ok(fa_lexicon_word("rallies") == FA_LEXICON_POSITIVE, "rallies positive");
    ok(fa_lexicon_word("upgrades") == FA_LEXICON_POSITIVE, "upgrades positive");
    ok(fa_lexicon_word("plunging") == FA_LEXICON_NEGATIVE, "plunging negative");
    ok(fa_lexicon_word("layoffs") == FA_LEXICON_NEGATIVE, "layoffs negative");
    ok(fa_lexicon_word("lawsuits") == FA_LEXICON_NEGATIVE, "lawsuits negative");
    ok(fa_lexicon_word("missed") == FA_LEXICON_NEGATIVE, "missed negative");
    ok(fa_lexicon_word("uncertainty") == FA_LEXICON_UNCERTAIN, "uncertainty");
    ok(fa_lexicon_word("table") == FA_LEXICON_NONE, "table none");

    s = sc("Apple beats estimates and shares surge to a record.");
    is_num(s.positive, 3, 0, "three positive words");
    is_num(s.negative, 0, 0, "no negative");
    is_num(s.score, 0.75, 1e-12, "score (3-0)/(3+0+1)");
    is_str(s.label, "positive", "label positive");
    is_num(s.words, 9, 0, "word count");

    s = sc("Bank shares plunge after a downgrade; lawsuit filed over layoffs");
    is_num(s.negative, 4, 0, "four negative");
    is_str(s.label, "negative", "label negative");

    s = sc("Results did not beat expectations");
    is_num(s.negated, 1, 0, "negated once");
    is_num(s.negative, 1, 0, "negated positive counts negative");
    is_str(s.label, "negative", "not beat is negative");
    s = sc("The company hasn't seen any decline in orders");
    is_num(s.positive, 1, 0, "n't flips decline");
    s = sc("No growth. Profits surge");
    is_num(s.negated, 1, 0, "negation stops at the sentence end");
    is_num(s.positive, 2, 0, "second sentence positive (profits, surge)");
    s = sc("not that the quarter was a beat");
    is_num(s.negated, 0, 0, "negator more than three words before: no flip");

    s = sc("Shares fell sharply lower");
    is_num(s.negative, 2.5, 1e-12, "intensifier weighs the next word 1.5");
    s = sc("Outlook is uncertain and volatile, results may vary");
    is_num(s.uncertain, 3, 0, "three uncertainty words");
    is_str(s.label, "neutral", "uncertain text neutral");
    s = sc(NULL);
    is_num(s.score, 0, 0, "NULL scores 0");
    is_str(s.label, "neutral", "NULL neutral");
    s = sc("Gains and losses");
    is_num(s.score, 0, 0, "balanced is 0");
    return tap_done();
}
