"""Zalo for Một Cửa: a thin HTTP client, webhook signatures, error mapping and a local fake Zalo.

Nothing else in the project builds a Zalo URL: every path lives in :mod:`zalo.client`, every base URL
is a setting passed in by the caller. :mod:`zalo.fake` serves the same paths on localhost for
development and tests. No Django import happens at module level anywhere in this package.
"""
