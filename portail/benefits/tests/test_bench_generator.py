"""The national-shape generator of the benchmarks (bench/generate.py), at a small size on the test database."""

import io

import pytest
from django.db import connection
from django.db.models import Count

from bench import generate as generator
from portail.accounts.models import Account
from portail.benefits.models import Payment, PaymentLine
from portail.registry.models import Member
from portail.registry.nir import parse_nir


def _drop_generator_tables():
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_generator_meta")
        cursor.execute("DROP TABLE IF EXISTS bench_generator_chunk")


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 100 members, and the generator's own tables gone after the test (Django flushes only its own)."""
    monkeypatch.setattr(generator, "CHUNK_MEMBERS", 100)
    _drop_generator_tables()
    yield
    _drop_generator_tables()


@pytest.mark.django_db(transaction=True)
class TestGenerator:
    def test_members_payments_and_acts_of_the_asked_shape(self, small_chunks):
        summary = generator.generate(members=250, payments=5_000, out=io.StringIO())
        assert Member.objects.count() == summary["members"] == 250
        assert Payment.objects.count() == summary["payments"]
        assert 4_000 < summary["payments"] < 6_000  # the log-normal law's mean, give or take
        assert PaymentLine.objects.count() == summary["acts"] > summary["payments"]
        for nir in Member.objects.values_list("nir", flat=True):
            parse_nir(nir)  # every NIR is valid (raises otherwise)
        per_member = sorted(
            Payment.objects.values("member").order_by().annotate(n=Count("id")).values_list("n", flat=True)
        )
        assert per_member[len(per_member) // 2] < 20 < max(per_member)  # most have few, some have many
        assert set(Account.objects.values_list("member_id", flat=True)) == {1, 101, 201}

    def test_an_interrupted_run_resumes_where_it_stopped(self, small_chunks, monkeypatch):
        write = generator._write_chunk

        def fail_on_second_chunk(shape, chunk, *args):
            if chunk == 1:
                raise KeyboardInterrupt
            return write(shape, chunk, *args)

        monkeypatch.setattr(generator, "_write_chunk", fail_on_second_chunk)
        with pytest.raises(KeyboardInterrupt):
            generator.generate(members=250, payments=5_000, out=io.StringIO())
        assert Member.objects.count() == 100  # the first chunk, whole; nothing of the second
        monkeypatch.setattr(generator, "_write_chunk", write)
        summary = generator.generate(members=250, payments=5_000, out=io.StringIO())
        assert summary["chunks_written_now"] == 2
        assert Member.objects.count() == 250 and Payment.objects.count() == summary["payments"]
        assert generator.generate(members=250, payments=5_000, out=io.StringIO())["chunks_written_now"] == 0

    def test_other_sizes_on_the_same_database_are_refused(self, small_chunks):
        generator.generate(members=100, payments=2_000, out=io.StringIO())
        with pytest.raises(SystemExit, match="members=100, not 200"):
            generator.generate(members=200, payments=2_000, out=io.StringIO())
