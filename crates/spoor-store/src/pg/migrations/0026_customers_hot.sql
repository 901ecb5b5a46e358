-- Every event of a known person rewrites their summary. The table has no
-- secondary index, so each such update could stay on the row's page (a
-- heap-only tuple update, no entry in the primary key's index), but only
-- when the page has room for the new version: packed full by inserts, a
-- third of them moved to another page and wrote a new key entry. Pages
-- written from now on keep a fifth free for those updates, as the
-- sessions' do.
ALTER TABLE customers SET (fillfactor = 80);
