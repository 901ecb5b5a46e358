import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KEY_PLACEHOLDER, scriptTagSnippet, segmentNodeSnippet } from '../../src/snippets';

test('the script tag loads the SDK from this server with the key', () => {
  assert.equal(
    scriptTagSnippet('https://spoor.example.com', 'fk_abc'),
    '<script src="https://spoor.example.com/sdk/spoor.js" data-api-key="fk_abc" data-endpoint="https://spoor.example.com" async></script>',
  );
  assert.ok(scriptTagSnippet('http://127.0.0.1:8080', KEY_PLACEHOLDER).includes('data-api-key="YOUR_WRITE_KEY"'));
});

test("Segment's Node.js library is given the key and this server as host", () => {
  const code = segmentNodeSnippet('https://spoor.example.com', 'fk_abc');
  assert.ok(code.includes("new Analytics({ writeKey: 'fk_abc', host: 'https://spoor.example.com' })"), code);
  assert.ok(code.startsWith("import { Analytics } from '@segment/analytics-node';"));
});

test('quotes cannot break out of the attribute or the string', () => {
  assert.ok(scriptTagSnippet('https://x', 'a"b<c').includes('data-api-key="a&quot;b&lt;c"'));
  assert.ok(segmentNodeSnippet('https://x', "a'b\\c").includes("writeKey: 'a\\'b\\\\c'"));
});
