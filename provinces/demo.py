"""The five demo provinces and their offices, as data. `seed_demo` reads this and nothing else
decides what the demo contains.

Agency codes: Đồng Tháp's H20 is seen in a real dossier code; the other Hnn numbers follow the
alphabetical order of QCVN 102:2016's province list (An Giang H01 … Đồng Tháp H20) [guess].
"""

from .services import ProvinceSpec

DEMO_PROVINCES = (
    ProvinceSpec("Thành phố Đà Nẵng", "danang", "danang.localhost", "000.00.01.H15", 48),
    ProvinceSpec("Tỉnh Đồng Tháp", "dongthap", "dongthap.localhost", "000.00.01.H20", 82),
    # Bình Dương is now part of Hồ Chí Minh City (administrative code 79); its one-stop-shop keeps
    # its own portal.
    ProvinceSpec("Bình Dương", "binhduong", "binhduong.localhost", "000.00.01.H08", 79),
    ProvinceSpec("Tỉnh Cà Mau", "camau", "camau.localhost", "000.00.01.H12", 96),
    # The province Bình Dương merges into: `manage.py merge_province --from binhduong --into hochiminh`.
    ProvinceSpec("Thành phố Hồ Chí Minh", "hochiminh", "hochiminh.localhost", "000.00.01.H29", 79),
)

# A real ward of each province (from vietnam-provinces) whose People's Committee is demoed.
DEMO_WARDS = {
    "danang": "Phường Hải Châu",
    "dongthap": "Phường Cao Lãnh",
    "binhduong": "Phường Thủ Dầu Một",
    "camau": "Phường An Xuyên",
    "hochiminh": "Phường Sài Gòn",
}

# (code, name, short name, is_reception)
DEMO_DEPARTMENTS = (
    ("TTHCC", "Trung tâm Phục vụ hành chính công", "Bộ phận một cửa", True),
    ("STP", "Sở Tư pháp", "Sở Tư pháp", False),
    ("STC", "Sở Tài chính", "Sở Tài chính", False),
    ("SXD", "Sở Xây dựng", "Sở Xây dựng", False),
    ("SNNMT", "Sở Nông nghiệp và Môi trường", "Sở NN&MT", False),
    ("CAT", "Công an tỉnh", "Công an tỉnh", False),
    ("UBND-PHUONG", "Ủy ban nhân dân {ward}", "UBND {ward}", False),
)

# Officer names differ per province: each province's staff are different people.
DEMO_PEOPLE = {
    "danang": ("Nguyễn Văn An", "Trần Thị Bích", "Lê Minh Châu", "Phạm Quốc Dũng", "Hoàng Thị Hạnh", "Võ Văn Khoa"),
    "dongthap": ("Nguyễn Thị Lan", "Trần Văn Lộc", "Lê Thị Mai", "Phạm Văn Nam", "Đỗ Thị Oanh", "Huỳnh Văn Phúc"),
    "binhduong": ("Ngô Văn Quang", "Bùi Thị Sen", "Đặng Văn Tài", "Lý Thị Thu", "Trương Văn Uy", "Phan Thị Vân"),
    "camau": ("Dương Văn Xuân", "Châu Thị Yến", "Tạ Văn Bảo", "Lâm Thị Cúc", "Quách Văn Đức", "Mai Thị Giang"),
    "hochiminh": ("Vũ Văn Hải", "Đinh Thị Hoa", "Kiều Văn Hùng", "Tôn Nữ Hương", "La Văn Kiên", "Âu Thị Liên"),
}

# (username, person index, role key, department code, title, phone)
DEMO_OFFICERS = (
    ("quantri", 0, "province_admin", "TTHCC", "Quản trị hệ thống tỉnh", "0905000001"),
    ("motcua", 1, "reception", "TTHCC", "Cán bộ tiếp nhận và trả kết quả", "0905000002"),
    ("motcua2", 2, "reception", "TTHCC", "Cán bộ tiếp nhận và trả kết quả", "0905000003"),
    ("chuyenvien", 3, "specialist", "UBND-PHUONG", "Công chức Tư pháp – Hộ tịch", "0905000004"),
    ("chuyenvien.ca", 4, "specialist", "CAT", "Cán bộ Phòng Hồ sơ nghiệp vụ", "0905000005"),
    ("lanhdao", 5, "leader", "UBND-PHUONG", "Phó Chủ tịch UBND phường", "0905000006"),
)

NATIONAL_SUPERUSER = "admin"

# --- reception points (issue 15) ----------------------------------------------------------------
# The province's centre is the TTHCC department above (given the province's agency code); these real
# wards (names as in vietnam-provinces) each get a one-stop shop of their own, with an agency code by
# the scheme in offices/points.py and one counter officer (DEMO_POINT_OFFICERS, by position).
DEMO_POINT_WARDS = {
    "danang": ("Phường Hải Châu", "Phường Thanh Khê", "Phường Sơn Trà"),
    "dongthap": ("Phường Cao Lãnh", "Phường Mỹ Tho", "Phường Gò Công"),
    "binhduong": ("Phường Thủ Dầu Một", "Phường Phú Lợi", "Phường Bến Cát"),
    "camau": ("Phường An Xuyên", "Phường Bạc Liêu", "Phường Hiệp Thành"),
    "hochiminh": ("Phường Sài Gòn", "Phường Bến Thành", "Phường Tân Định"),
}
DEMO_CENTRE_ADDRESS = "Trung tâm Phục vụ hành chính công {province}"
DEMO_POINT_ADDRESS = "Trụ sở UBND {ward}, {province}"
DEMO_OPENING_HOURS = "Sáng 7:30–11:30, chiều 13:30–17:00, thứ Hai đến thứ Sáu; sáng thứ Bảy 7:30–11:30"
# (username, full name, title, phone) of the counter officer of the n-th ward point.
DEMO_POINT_OFFICERS = (
    ("motcua.p1", "Trần Thị Ánh", "Cán bộ một cửa phường", "0905000011"),
    ("motcua.p2", "Lê Văn Bình", "Cán bộ một cửa phường", "0905000012"),
    ("motcua.p3", "Phạm Thị Cẩm", "Cán bộ một cửa phường", "0905000013"),
)
