/* Unit tests for fa_record: numbers, canonical JSON, ids, validation. */
#include <stdlib.h>
#include <string.h>

#include "fa_record.h"
#include "tap.h"
#include "fa_banned.h"

int main(void)
{
    struct json_object *a, *b, *n;
    char *c;
    char ida[FA_ID_HEX];

    n = fa_json_num(0.1);
    is_str(json_object_to_json_string(n), "0.1", "0.1 prints as 0.1");
    json_object_put(n);
    n = fa_json_num(42.540000915527344);
    is_str(json_object_to_json_string(n), "42.540000915527344", "a float32 price keeps 17 digits");
    json_object_put(n);
    n = fa_json_num(102223600);
    is_str(json_object_to_json_string(n), "102223600", "an integral volume prints as an integer");
    json_object_put(n);
    ok(fa_json_num(0.0 / 0.0) == NULL, "NaN becomes null");

    a = fa_record_new("news", "AAPL", "2023-06-01");
    fa_record_set_str(a, "title", "Quote \" and \\ and \n");
    fa_record_set_num(a, "score", 0.25);
    b = json_tokener_parse("{\"score\":0.25,\"title\":\"Quote \\\" and \\\\ and \\n\","
                           "\"date\":\"2023-06-01\",\"symbol\":\"AAPL\",\"kind\":\"news\"}");
    c = fa_json_canonical(a, NULL);
    is_str(c,
           "{\"date\":\"2023-06-01\",\"kind\":\"news\",\"score\":0.25,\"symbol\":\"AAPL\","
           "\"title\":\"Quote \\\" and \\\\ and \\n\"}",
           "canonical JSON sorts keys and escapes");
    free(c);
    snprintf(ida, sizeof ida, "%s", fa_record_set_id(a));
    ok(strlen(ida) == 32, "id is 32 hex digits");
    is_str(fa_record_set_id(b), ida, "the same content in another key order has the same id");
    fa_record_set_str(b, "title", "other");
    ok(strcmp(fa_record_set_id(b), ida) != 0, "different content, different id");
    is_str(fa_record_set_id(a), ida, "the id does not depend on the id field");
    is_str(ida, "0540f9f744cde270d70b6f8e94617f09",
           "golden id (matches Python hashlib.blake2b(digest_size=16) of the same text)");
    ok(fa_record_validate(a) == 0, "a good record validates");
    fa_record_set_str(a, "date", "2023-02-30");
    ok(fa_record_validate(a) < 0, "an impossible date is refused");
    fa_record_set_str(a, "date", "2023-02-28");
    fa_record_set_str(a, "asof", "2023-03-01");
    is_str(fa_record_asof(a), "2023-03-01", "asof read back");
    json_object_put(a);
    json_object_put(b);

    a = fa_record_error("fa-x", "AAPL", "2023-06-01", "in.ndjson:3", "bad price");
    is_str(fa_record_asof(a), "2023-06-01", "an error record's asof is its date");
    snprintf(ida, sizeof ida, "%s", fa_record_str(a, "id") ? fa_record_str(a, "id") : "");
    is_str(fa_record_set_id(a), ida, "an error record carries its content id");
    ok(fa_record_validate(a) == 0, "an error record validates");
    json_object_put(a);
    a = fa_record_error("fa-x", NULL, NULL, NULL, "not JSON");
    ok(!fa_record_str(a, "asof") && strlen(fa_record_str(a, "id")) == 32,
       "without a date: no asof, still an id");
    json_object_put(a);

    a = json_tokener_parse("{\"kind\":\"llm\",\"stage\":\"embed\",\"tokens\":7,\"id\":\"x\"}");
    a = fa_record_attribute(a, "AAPL", "2023-06-02", "2023-06-01");
    c = fa_json_canonical(a, (const char *const[]){"id", NULL});
    is_str(c,
           "{\"asof\":\"2023-06-01\",\"date\":\"2023-06-02\",\"kind\":\"llm\","
           "\"stage\":\"embed\",\"symbol\":\"AAPL\",\"tokens\":7}",
           "attribute: symbol, date and asof added, other fields kept");
    free(c);
    ok(strncmp(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
               "{\"kind\":\"llm\",\"symbol\":\"AAPL\",\"date\":\"2023-06-02\",\"asof\"", 52) == 0,
       "attribute: conventional key order");
    snprintf(ida, sizeof ida, "%s", fa_record_str(a, "id"));
    is_str(fa_record_set_id(a), ida, "attribute: the id is recomputed for the new content");
    json_object_put(a);
    return tap_done();
}
