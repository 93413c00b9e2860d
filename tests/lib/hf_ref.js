// hf_ref.js TOKENIZER.JSON < hexlines: the ids the Hugging Face tokenizers
// library itself gives (its Rust core through the npm package "tokenizers",
// which is not a dependency of fa: install it by hand with
// `npm install tokenizers` and run with NODE_PATH=.../node_modules).
// One output line per input line (hex of the text's bytes); texts that are
// not valid UTF-8 cannot be passed to it and print "SKIP". Used to check
// fa_tokenizer by hand; the tests use bpe_ref.py.
const { Tokenizer } = require('tokenizers');
const fs = require('fs');
const tok = Tokenizer.fromFile(process.argv[2]);
const lines = fs.readFileSync(0, 'utf8').split('\n');
if (lines[lines.length - 1] === '') lines.pop();
const dec = new TextDecoder('utf-8', { fatal: true });
(async () => {
  const out = [];
  for (const l of lines) {
    const b = Buffer.from(l.trim(), 'hex');
    let s;
    try { s = dec.decode(b); } catch (e) { out.push('SKIP'); continue; }
    const enc = await tok.encode(s, null, { addSpecialTokens: false });
    out.push(enc.getIds().join(' '));
  }
  process.stdout.write(out.join('\n') + '\n');
})();
