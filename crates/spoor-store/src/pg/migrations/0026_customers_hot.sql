-- Every event of a known person rewrites their summary. The table has no
-- secondary index, so each such update could stay on the row's page (a
-- heap-only tuple update, no entry in the primary key's index), but only
-- when the page has room for the new version: on pages packed full by
-- inserts, a tenth to a third of them (catch-ups of 150,000 and 30,000
-- events) moved to another page and wrote a new key entry. Pages
-- written from now on keep a fifth free for those updates, as the
-- sessions' do.
ALTER TABLE customers SET (fillfactor = 80);
