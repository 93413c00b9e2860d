/* test_prompt.c: templates: variables, dotted paths, includes, lookup via
 * FA_PROMPTS, and errors naming template:line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "fa_err.h"
#include "fa_prompt.h"
#include "fa_banned.h"

static char dir[] = "/tmp/fa-test-prompt.XXXXXX";

static void put(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

int main(void)
{
    struct json_object *v = json_tokener_parse(
        "{\"symbol\":\"AAPL\",\"price\":{\"close\":189.5,\"chg\":-0.25},"
        "\"news\":[{\"title\":\"Apple beats\"},{\"title\":\"iPhone\"}],\"lines\":[\"a\",\"b\"],"
        "\"empty\":null,\"obj\":{\"k\":[1,{\"x\":true}]},\"n\":3}");
    char *s;

    fa_err_init("test_prompt");
    if (!mkdtemp(dir))
        return 1;
    setenv("FA_PROMPTS", dir, 1);
    put("head.txt", "Trader for {{symbol}}.\n");
    put("main.txt", "{{> head}}{{! a comment }}Close {{ price.close }} ({{price.chg}}).\n"
                    "First: {{news.0.title}}; n={{n}}\n{{lines}}\n[{{empty}}]{{obj}}\n");
    put("bad.txt", "line one\nline two {{symbol}}\nline three {{account.cash}}\n");
    put("loop.txt", "x {{> loop}}");
    put("open.txt", "a\nb {{symbol\n");
    put("inc.txt", "ok\n{{> nothere}}\n");

    s = fa_prompt_render("main", v);
    is_str(s,
           "Trader for AAPL.\nClose 189.5 (-0.25).\nFirst: Apple beats; n=3\na\nb\n"
           "[]{\"k\":[1,{\"x\":true}]}\n",
           "render with include, paths, arrays, null, object");
    free(s);

    ok(fa_prompt_render("bad.txt", v) == NULL, "missing variable fails");
    is_str(fa_err_get(), "bad.txt:3: missing variable 'account.cash'", "message names file:line");
    ok(fa_prompt_render("loop", v) == NULL, "include loop fails");
    ok(strstr(fa_err_get(), "nested deeper than 16") != NULL, "loop message");
    ok(fa_prompt_render("open", v) == NULL, "unclosed tag fails");
    is_str(fa_err_get(), "open.txt:2: '{{' without a closing '}}'", "unclosed message");
    ok(fa_prompt_render("inc", v) == NULL, "missing include fails");
    ok(strncmp(fa_err_get(), "inc.txt:2: include: prompt 'nothere.txt': not found in", 52) == 0,
       "missing include names where");
    ok(fa_prompt_render("nosuch", v) == NULL, "missing template fails");
    ok(strstr(fa_err_get(), "prompt 'nosuch.txt': not found in") != NULL, "not found message");
    ok(strstr(fa_err_get(), dir) != NULL, "message lists FA_PROMPTS");

    s = fa_prompt_render_text("{{news.1.title}} {{news.2.title}}", "mem", v);
    ok(s == NULL && strcmp(fa_err_get(), "mem:1: missing variable 'news.2.title'") == 0,
       "array index out of range is missing");
    free(s);
    s = fa_prompt_render_text("plain text, no tags", "mem", NULL);
    is_str(s, "plain text, no tags", "no variables needed");
    free(s);
    s = fa_prompt_path("main");
    ok(s && strstr(s, "/main.txt") != NULL, "path resolves with .txt");
    free(s);

    /* the prompts directory next to the executable's ../prompts is not
     * there for a unit test; FA_PROMPTS unset must then say where it looked */
    unsetenv("FA_PROMPTS");
    ok(fa_prompt_render("main", v) == NULL, "without FA_PROMPTS not found");
    ok(strstr(fa_err_get(), "/prompts") != NULL, "lists the install dir");

    json_object_put(v);
    {
        const char *names[] = {"head.txt", "main.txt", "bad.txt",
                               "loop.txt", "open.txt", "inc.txt"};
        char path[256];
        for (size_t i = 0; i < 6; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            unlink(path);
        }
        rmdir(dir);
    }
    return tap_done();
}
