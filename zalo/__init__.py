"""Zalo for Một Cửa: a thin HTTP client, webhook signatures, error mapping.

Nothing else in the project builds a Zalo URL: every path lives in :mod:`zalo.client`, every base URL
is a setting passed in by the caller. The local fake Zalo (:mod:`fakezalo`, a development tool outside
the product) serves the same paths on localhost for development and tests. No Django import happens
at module level anywhere in this package.
"""
