#!/usr/bin/python3
"""Seeds N orgs x M members into the SQLite database of a STOPPED Gatehouse server.

    bench/seed_orgs.py DATA_DIR N M

Each org gets its two system roles (copied, permissions included, from the default org
the server made at its first start, so the seed follows the configured member
permissions), M fresh users (the first its admin, the others members) whose password
hash is that of the bootstrap admin (they never log in). One transaction of plain SQL
inserts with bound parameters: 10,000 x 10 takes a few seconds. The server must be
stopped: it is the only writer otherwise."""
import sqlite3
import sys
import time
import uuid


def main():
    data_dir, n_orgs, n_members = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    con = sqlite3.connect(f"{data_dir}/gatehouse.db", timeout=30)
    now = int(time.time())
    (default_org,) = con.execute("SELECT id FROM orgs WHERE name = 'default'").fetchone()
    system = con.execute("SELECT name, permissions FROM roles WHERE org_id = ? AND system = 1",
                         (default_org,)).fetchall()
    assert {name for name, _ in system} == {"admin", "member"}, system
    (pw_hash,) = con.execute("SELECT password_hash FROM users WHERE username = 'admin'").fetchone()
    orgs, roles, users, members = [], [], [], []
    for i in range(n_orgs):
        org = str(uuid.uuid4())
        orgs.append((org, f"seed-{i:06d}", now))
        role_ids = {}
        for name, perms in system:
            role_ids[name] = str(uuid.uuid4())
            roles.append((role_ids[name], org, name, perms))
        for j in range(n_members):
            uid = str(uuid.uuid4())
            name = f"seed{i:06d}m{j:02d}"
            users.append((uid, name, f"{name}@seed.test", pw_hash, org, now, now))
            members.append((org, uid, role_ids["admin" if j == 0 else "member"], now))
    with con:
        con.executemany("INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)", orgs)
        con.executemany("INSERT INTO roles (id, org_id, name, permissions, system) "
                        "VALUES (?, ?, ?, ?, 1)", roles)
        con.executemany("INSERT INTO users (id, username, email, full_name, password_hash, "
                        "primary_org_id, disabled, superadmin, token_epoch, created_at, "
                        "updated_at) VALUES (?, ?, ?, '', ?, ?, 0, 0, 0, ?, ?)", users)
        con.executemany("INSERT INTO memberships (org_id, user_id, role_id, created_at) "
                        "VALUES (?, ?, ?, ?)", members)
    con.close()
    print(f"seeded {len(orgs)} orgs, {len(users)} users, {len(members)} memberships")


if __name__ == "__main__":
    main()
