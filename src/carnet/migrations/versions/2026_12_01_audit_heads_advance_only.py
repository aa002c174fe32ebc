"""The application role may only advance a chain's head, by appending: no rewind, no delete, no rewrite.

Revision ID: 20261201_audit_heads
Revises: 20261201_outbox_sealed
Create Date: 2026-12-01 22:10:00

Before, the role Carnet runs as could update or delete `audit_heads`: verification noticed, but every audited
request on that record failed until someone repaired the head. Now the role holds no write right on the
table but the sealer's bookmark (`sealed_seq`, forward only too). It reserves sequence numbers through
`audit_reserve` (a function that runs with its owner's rights and only ever moves a head forward), and the
head's hash follows the entries appended, moved by a trigger on `audit_entries`. A trigger on `audit_heads`,
for every role, refuses a delete, a truncate, a step back, and a hash that is not the one of the entry at
the head.
"""

from __future__ import annotations

from alembic import op

revision = "20261201_audit_heads"
down_revision = "20261201_outbox_sealed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        r"""
        CREATE FUNCTION audit_reserve(p_chain uuid, p_count integer, p_now timestamptz)
            RETURNS TABLE (last_seq bigint, last_hash bytea)
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
            IF p_count IS NULL OR p_count < 1 THEN
                RAISE EXCEPTION 'audit_reserve: reserve at least one entry';
            END IF;
            INSERT INTO audit_heads (chain_id, seq, hash, updated_at)
                VALUES (p_chain, 0, '\x0000000000000000000000000000000000000000000000000000000000000000', p_now)
                ON CONFLICT (chain_id) DO NOTHING;
            RETURN QUERY
                UPDATE audit_heads h SET seq = h.seq + p_count, updated_at = p_now
                WHERE h.chain_id = p_chain
                RETURNING h.seq - p_count, h.hash;
        END $$;

        CREATE FUNCTION audit_heads_follow() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
            UPDATE audit_heads h SET hash = a.hash
            FROM appended a WHERE a.chain_id = h.chain_id AND a.seq = h.seq;
            RETURN NULL;
        END $$;
        CREATE TRIGGER audit_entries_move_head AFTER INSERT ON audit_entries
            REFERENCING NEW TABLE AS appended FOR EACH STATEMENT EXECUTE FUNCTION audit_heads_follow();

        CREATE FUNCTION audit_heads_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'UPDATE' THEN
                RAISE EXCEPTION 'audit heads only move forward (% refused)', TG_OP;
            END IF;
            IF NEW.chain_id <> OLD.chain_id OR NEW.seq < OLD.seq OR NEW.sealed_seq < OLD.sealed_seq
                OR NEW.sealed_seq > NEW.seq THEN
                RAISE EXCEPTION 'audit heads only move forward (chain %, % to %)', OLD.chain_id, OLD.seq, NEW.seq;
            END IF;
            IF NEW.hash <> OLD.hash AND NOT EXISTS (
                SELECT 1 FROM audit_entries e WHERE e.chain_id = NEW.chain_id AND e.seq = NEW.seq AND e.hash = NEW.hash
            ) THEN
                RAISE EXCEPTION 'an audit head names the hash of the entry it stands on (chain %)', OLD.chain_id;
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER audit_heads_no_step_back BEFORE UPDATE OR DELETE ON audit_heads
            FOR EACH ROW EXECUTE FUNCTION audit_heads_forward_only();
        CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads
            FOR EACH STATEMENT EXECUTE FUNCTION audit_heads_forward_only();

        REVOKE ALL ON FUNCTION audit_reserve(uuid, integer, timestamptz) FROM PUBLIC;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER audit_heads_no_truncate ON audit_heads;
        DROP TRIGGER audit_heads_no_step_back ON audit_heads;
        DROP FUNCTION audit_heads_forward_only();
        DROP TRIGGER audit_entries_move_head ON audit_entries;
        DROP FUNCTION audit_heads_follow();
        DROP FUNCTION audit_reserve(uuid, integer, timestamptz);
        """
    )
