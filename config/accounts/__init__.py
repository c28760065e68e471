"""
Accounts: the rules allauth and the API apply to people logging in: one
login lockout per account, usernames that can't impersonate another, and API
tokens stored as digests that die with the password that earned them.
"""
