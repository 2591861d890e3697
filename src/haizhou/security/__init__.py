"""Security (安全): users, roles and scopes, passwords, the audit log, pseudonymisation.

An adapter layer: used by models, tasks, reports, the API and the CLI; never by analytics or
the airspace core.

- :mod:`~haizhou.security.pseudonym` — keyed HMAC pseudonyms and masks of personal identifiers
  (个人身份信息假名化), free-text scrubbing, the key file.
- :mod:`~haizhou.security.passwords` — Argon2id hashing and the password policy.
- :mod:`~haizhou.security.roles` — roles (角色) and jurisdiction scopes (辖区范围).
- :mod:`~haizhou.security.users` — user accounts over a SQLAlchemy session.
- :mod:`~haizhou.security.audit` — the append-only, hash-chained audit log (审计日志).
"""
