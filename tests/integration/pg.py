"""A throwaway PostgreSQL server for the integration tests (tests/scripts/pgtmp.sh):
started once per session on a free loopback port in a temporary directory, one fresh
database per test, stopped and started again by the failure tests."""
import os
import pathlib
import subprocess
import tempfile
import uuid

REPO = pathlib.Path(__file__).resolve().parents[2]
PGTMP = str(REPO / "tests" / "scripts" / "pgtmp.sh")


class Postgres:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="gh-it-pg-")
        os.chmod(self.root, 0o711)  # the server may run as "postgres" (pgtmp.sh)
        self.dir = os.path.join(self.root, "pg")
        self.dsn = subprocess.run([PGTMP, "start", self.dir], check=True, capture_output=True,
                                  text=True, timeout=120).stdout.strip()
        self.password = self.dsn.split(":")[2].split("@")[0]

    def dsn_for(self, database):
        return self.dsn.rsplit("/", 1)[0] + "/" + database

    def psql(self, sql, database="postgres"):
        """Runs sql (constants of the tests) and returns psql's unaligned output."""
        return subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                               self.dsn_for(database), "-c", sql],
                              check=True, capture_output=True, text=True, timeout=60).stdout

    def new_database(self):
        """A fresh empty database; its DSN."""
        name = "gh_" + uuid.uuid4().hex[:12]
        self.psql(f"CREATE DATABASE {name}")
        return self.dsn_for(name)

    def stop(self):
        subprocess.run([PGTMP, "pgctl", self.dir, "stop", "-m", "fast"], check=True,
                       capture_output=True, timeout=60)

    def start(self):
        subprocess.run([PGTMP, "pgctl", self.dir, "start"], check=True,
                       capture_output=True, timeout=60)

    def cleanup(self):
        subprocess.run([PGTMP, "stop", self.dir], capture_output=True, timeout=60)
        subprocess.run(["rm", "-rf", self.root], capture_output=True, timeout=60)
