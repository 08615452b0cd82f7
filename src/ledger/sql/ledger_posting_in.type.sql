-- A posting to post (ledger_post_set), naming its entry.
CREATE TYPE ledger_posting_in AS (entry_id uuid, account_id uuid, side text, amount numeric);
