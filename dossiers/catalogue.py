"""Demo procedure catalogue (thủ tục hành chính) that `seed_demo` loads into every demo province.

Pure data, no Django. Source of truth: shared/docs/procedures.md, which summarises real records of the
national public-service portal (Cổng Dịch vụ công quốc gia, dichvucong.gov.vn) as crawled in mid-2026 in the
public repo chatbot-tthc/chatbot_tthc (scripts/crawler/data/raw/<bộ>/<mã>.json), i.e. the state after the
1/7/2025 reform (two-tier local government, Sở KH&ĐT merged into Sở Tài chính, Sở TN&MT + Sở NN&PTNT merged into
Sở Nông nghiệp và Môi trường, driving licences and judicial records moved to the Police). Vietnamese wording of
names, components and results follows those portal records; each row cites its detail page
(https://dichvucong.gov.vn/thu-tuc-hanh-chinh/<id>).

Conventions (see also shared/docs/one-stop-shop.md):

- `processing_days` is in working days; 0 means "trả trong ngày" (a dossier received after the 15:00 cut-off counts
  as received the next working day). The portal's bare "1" for hộ tịch means same day, so those rows use 0. The
  portal writes "Ngày" without "làm việc" for some permits (construction, food safety, environment, judicial
  record); the demo treats every figure as working days.
- `fee` is the integer amount (đồng) to collect at the counter, taken from the record's description, not from its
  "Miễn phí" fee column (procedures.md §4); amounts the portal shows in thousands ("700 VNĐ") are converted
  (700.000 đ). Where the amount is set by each province's HĐND and the record gives none, `fee` is 0 and
  `fee_note` says so: a province must fill in its own figure.
- `on_supplement` is OUR reading, not something the portal states: RESTART for appraisal-type permits whose time
  limit runs "kể từ ngày nhận đủ hồ sơ hợp lệ" and where supplementation triggers a new appraisal (land,
  construction, environment, food safety); RESUME for registration-type procedures where supplementation is a
  paper fix. Officers can change it per procedure.
- `components` are the papers actually submitted (thành phần hồ sơ). Identity papers and proof of residence that
  are only presented for checking, or pulled from the national databases, are left out. Portal "1 bản chính,
  1 bản sao" lists that mean "original or copy" use ORIGINAL_OR_COPY.
- `department` is one of the demo departments: TTHCC (Trung tâm Phục vụ hành chính công, the receiving centre; no
  procedure belongs to it), STP (Sở Tư pháp), STC (Sở Tài chính), SXD (Sở Xây dựng), SNNMT (Sở Nông nghiệp và
  Môi trường), CAT (Công an tỉnh), UBND-PHUONG (Ủy ban nhân dân phường/xã). Commune-level police work (residence)
  is mapped to CAT because the demo has no commune police department.
- Deliberately NOT used: the private agent catalogue ericphan28/dich-vu-cong-thong-nhat (agent fees, internal
  codes) and mock repos with invented codes (procedures.md §4). Rows 17, 18 and 21 of procedures.md (trợ cấp thất
  nghiệp, bản sao văn bằng, ATTP ngành y tế) are left out: no confirmed code, pre-reform or recalled-only data, and
  no matching demo department.
"""

ORIGINAL = "original"  # bản chính
CERTIFIED_COPY = "certified_copy"  # bản sao có chứng thực
COPY = "copy"  # bản sao / bản photo
ORIGINAL_OR_COPY = "original_or_copy"  # the portal's ambiguous "BC1/BS1"

RESUME = "resume"  # clock resumes with the remaining working days after supplementation
RESTART = "restart"  # clock restarts with the full processing time

PROCEDURES = (
    # ------------------------------------------------------------------ Hộ tịch (UBND cấp xã) ------------------
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfd-3fe0-70ac-b9d6-5e9e20d6eef7
        "code": "1.001193",
        "name": "Thủ tục đăng ký khai sinh",
        "field": "Hộ tịch",
        "department": "UBND-PHUONG",
        "processing_days": 0,  # portal "1": trả trong ngày; sau 15 giờ thì trả trong ngày làm việc tiếp theo
        "fee": 0,
        "fee_note": "Miễn phí; phí cấp bản sao Giấy khai sinh (nếu có yêu cầu) theo Thông tư số 281/2016/TT-BTC",
        "on_supplement": RESUME,  # our reading
        "legal_basis": "QĐ 163/QĐ-BTP; Luật Hộ tịch 60/2014/QH13; NĐ 123/2015/NĐ-CP",
        "result": "Giấy khai sinh",
        "components": (
            ("Tờ khai đăng ký khai sinh", ORIGINAL, 1, True),
            (
                "Giấy chứng sinh (không có thì nộp văn bản của người làm chứng xác nhận về việc sinh hoặc giấy cam "
                "đoan về việc sinh; không phải nộp nếu đã có bản điện tử Giấy chứng sinh)",
                ORIGINAL,
                1,
                True,
            ),
            (
                "Văn bản ủy quyền được chứng thực (nếu ủy quyền; không phải chứng thực nếu người được ủy quyền là "
                "ông, bà, cha, mẹ, con, vợ, chồng, anh, chị, em ruột)",
                ORIGINAL,
                1,
                False,
            ),
            ("Biên bản về việc trẻ bị bỏ rơi (trường hợp trẻ bị bỏ rơi)", ORIGINAL, 1, False),
            (
                "Văn bản xác nhận của cơ sở y tế đã thực hiện kỹ thuật hỗ trợ sinh sản (trường hợp mang thai hộ)",
                ORIGINAL,
                1,
                False,
            ),
        ),
    },
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfd-3fac-7489-b53b-a15eb239a6fe
        # Both parties must appear in person. An older ward page gives up to 5 working days when marriage
        # conditions must be verified (procedures.md: P); the current record only says "1".
        "code": "1.000894",
        "name": "Thủ tục đăng ký kết hôn",
        "field": "Hộ tịch",
        "department": "UBND-PHUONG",
        "processing_days": 0,
        "fee": 0,
        "fee_note": (
            "Miễn lệ phí; phí cấp bản sao Trích lục kết hôn (nếu có yêu cầu) theo Thông tư số 281/2016/TT-BTC"
        ),
        "on_supplement": RESUME,  # our reading
        "legal_basis": "QĐ 163/QĐ-BTP; Luật Hộ tịch 60/2014/QH13; NĐ 123/2015/NĐ-CP",
        "result": "Giấy chứng nhận kết hôn (mỗi bên nam, nữ nhận 01 bản chính)",
        "components": (
            (
                "Tờ khai đăng ký kết hôn (hai bên nam, nữ có thể khai chung vào một Tờ khai)",
                ORIGINAL,
                1,
                True,
            ),
        ),
    },
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfd-3fac-7489-b53b-9c6c958f2da4
        # The family must register within 15 days of the death.
        "code": "1.000656",
        "name": "Thủ tục đăng ký khai tử",
        "field": "Hộ tịch",
        "department": "UBND-PHUONG",
        "processing_days": 0,
        "fee": 0,
        "fee_note": (
            "Miễn lệ phí khi đăng ký khai tử đúng hạn và cho người thuộc gia đình có công với cách mạng, người "
            "thuộc hộ nghèo, người khuyết tật; trường hợp khác theo mức do HĐND tỉnh quyết định. Phí cấp bản sao "
            "Trích lục khai tử (nếu có yêu cầu) theo Thông tư số 281/2016/TT-BTC"
        ),
        "on_supplement": RESUME,  # our reading
        "legal_basis": "QĐ 163/QĐ-BTP; Luật Hộ tịch 60/2014/QH13; NĐ 123/2015/NĐ-CP",
        "result": "Trích lục khai tử",
        "components": (
            ("Tờ khai đăng ký khai tử", ORIGINAL, 1, True),
            (
                "Giấy báo tử hoặc giấy tờ thay Giấy báo tử (không phải nộp nếu đã có bản điện tử Giấy báo tử)",
                ORIGINAL,
                1,
                True,
            ),
            (
                "Giấy tờ, tài liệu chứng minh sự kiện chết (người chết đã lâu, không có Giấy báo tử hoặc giấy tờ "
                "thay thế)",
                ORIGINAL,
                1,
                False,
            ),
            (
                "Văn bản ủy quyền được chứng thực (nếu ủy quyền; không phải chứng thực nếu người được ủy quyền là "
                "ông, bà, cha, mẹ, con, vợ, chồng, anh, chị, em ruột)",
                ORIGINAL,
                1,
                False,
            ),
        ),
    },
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfd-6eb3-7019-bf3f-fc58c9ee44b9
        # Only 1 copy is issued when the purpose is marriage.
        "code": "1.004873",
        "name": "Thủ tục cấp Giấy xác nhận tình trạng hôn nhân",
        "field": "Hộ tịch",
        "department": "UBND-PHUONG",
        "processing_days": 3,
        "fee": 0,  # amount set by each province's HĐND; none given by the portal
        "fee_note": (
            "Mức lệ phí do HĐND tỉnh quyết định; miễn lệ phí cho người thuộc gia đình có công với cách mạng, "
            "người thuộc hộ nghèo, người khuyết tật"
        ),
        "on_supplement": RESUME,  # our reading
        "legal_basis": "QĐ 163/QĐ-BTP; Luật Hộ tịch 60/2014/QH13; NĐ 123/2015/NĐ-CP",
        "result": "Giấy xác nhận tình trạng hôn nhân",
        "components": (
            ("Tờ khai cấp Giấy xác nhận tình trạng hôn nhân", ORIGINAL, 1, True),
            (
                "Giấy xác nhận tình trạng hôn nhân đã được cấp trước đó (trường hợp yêu cầu cấp lại)",
                ORIGINAL,
                1,
                False,
            ),
            (
                "Văn bản ủy quyền (nếu ủy quyền; không phải chứng thực nếu người được ủy quyền là ông, bà, cha, mẹ, "
                "con, vợ, chồng, anh, chị, em ruột)",
                ORIGINAL,
                1,
                False,
            ),
        ),
    },
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfd-867c-72db-b6a7-dcbd8c763807
        # Handled by the body managing the electronic civil-status database (Sở Tư pháp at province level, or
        # UBND cấp xã); mapped to STP so that the demo Sở Tư pháp has a procedure. The record states no time
        # limit but applies the 15:00 same-day rule, so 0 (same day) is our reading.
        "code": "2.000635",
        "name": "Cấp bản sao Trích lục hộ tịch, bản sao Giấy khai sinh",
        "field": "Hộ tịch",
        "department": "STP",
        "processing_days": 0,
        "fee": 8000,
        "fee_note": "8.000 đ/bản sao",
        "on_supplement": RESUME,  # our reading
        "legal_basis": "QĐ 163/QĐ-BTP; TT 281/2016/TT-BTC",
        "result": "Bản sao Trích lục hộ tịch, bản sao Giấy khai sinh",
        "components": (
            (
                "Tờ khai đề nghị cấp bản sao Trích lục hộ tịch (cá nhân) hoặc văn bản yêu cầu nêu rõ lý do (cơ "
                "quan, tổ chức)",
                ORIGINAL,
                1,
                True,
            ),
            (
                "Văn bản ủy quyền (nếu ủy quyền; không phải chứng thực nếu người được ủy quyền là ông, bà, cha, mẹ, "
                "con, vợ, chồng, anh, chị, em ruột)",
                ORIGINAL,
                1,
                False,
            ),
        ),
    },
    # ------------------------------------------------------------------ Chứng thực (UBND cấp xã) ---------------
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfd-8e22-77ef-819f-e49460350904
        # No time in the record; "trong ngày, sau 15 giờ thì ngày làm việc tiếp theo" (procedures.md: P/R).
        # `fee` is the per-page base rate: the amount depends on the number of pages of the original.
        "code": "2.000815",
        "name": (
            "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức có thẩm quyền của Việt Nam; cơ "
            "quan, tổ chức có thẩm quyền của nước ngoài; cơ quan, tổ chức có thẩm quyền của Việt Nam liên kết với "
            "cơ quan, tổ chức có thẩm quyền của nước ngoài cấp hoặc chứng nhận"
        ),
        "field": "Chứng thực",
        "department": "UBND-PHUONG",
        "processing_days": 0,
        "fee": 2000,
        "fee_note": (
            "2.000 đ/trang; từ trang thứ 3 trở lên thu 1.000 đ/trang, tối đa không quá 200.000 đ/bản (tính theo "
            "trang của bản chính)"
        ),
        "on_supplement": RESUME,  # our reading
        "legal_basis": "QĐ 3152/QĐ-BTP; NĐ 23/2015/NĐ-CP; TT 226/2016/TT-BTC",
        "result": "Bản sao được chứng thực từ bản chính",
        "components": (
            ("Bản chính giấy tờ, văn bản làm cơ sở để chứng thực bản sao", ORIGINAL, 1, True),
            (
                "Bản sao cần chứng thực, đủ các trang có thông tin của bản chính (nếu chỉ xuất trình bản chính thì "
                "cơ quan chụp từ bản chính)",
                COPY,
                1,
                False,
            ),
        ),
    },
    # ------------------------------------------------------------------ Công an ---------------------------------
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bf7-bd79-75fb-a4c6-ba1bf85d20ad
        # Record by Bộ Công an naming Công an tỉnh. Fee from TT 244/2016/TT-BTC, which the 2026 record still cites;
        # a newer fee circular (TT 16/2025/TT-BTC) exists and its amounts were not checked (procedures.md).
        "code": "3.000333",
        "name": (
            "Cấp Phiếu Lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam, người Việt "
            "Nam đang cư trú ở nước ngoài"
        ),
        "field": "Lý lịch tư pháp",
        "department": "CAT",
        "processing_days": 10,  # portal: "10 Ngày"
        "fee": 200000,
        "fee_note": (
            "200.000 đ/lần; 100.000 đ/lần cho học sinh, sinh viên, người có công với cách mạng, thân nhân liệt sĩ; "
            "miễn cho người thuộc hộ nghèo và các đối tượng khác theo Thông tư số 244/2016/TT-BTC; từ Phiếu thứ 3 "
            "trở đi thu thêm 5.000 đ/Phiếu"
        ),
        "on_supplement": RESUME,  # our reading
        "legal_basis": "QĐ 1025/QĐ-BCA; Luật Lý lịch tư pháp 28/2009/QH12; TT 244/2016/TT-BTC",
        "result": "Phiếu Lý lịch tư pháp số 1 hoặc Phiếu Lý lịch tư pháp số 2",
        "components": (
            (
                "Tờ khai yêu cầu cấp Phiếu Lý lịch tư pháp, Mẫu số 01/2025/LLTP (Mẫu số 02/2025/LLTP khi ủy quyền "
                "hoặc cha, mẹ yêu cầu cho người chưa thành niên)",
                ORIGINAL,
                1,
                True,
            ),
            (
                "Bản sao Thẻ Căn cước hoặc thẻ Căn cước công dân hoặc Giấy xác nhận căn cước hoặc Hộ chiếu của "
                "người được cấp Phiếu (xuất trình bản chính để đối chiếu; không có bản chính thì nộp bản sao có "
                "chứng thực)",
                COPY,
                1,
                True,
            ),
            (
                "Văn bản ủy quyền yêu cầu cấp Phiếu Lý lịch tư pháp số 1, được công chứng, chứng thực (nếu ủy "
                "quyền; không cần nếu người được ủy quyền là cha, mẹ, vợ, chồng, con)",
                ORIGINAL,
                1,
                False,
            ),
            ("Giấy tờ chứng minh thuộc đối tượng miễn hoặc giảm phí (nếu có)", ORIGINAL, 1, False),
        ),
    },
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bf7-7704-7449-9e95-fe7ebb959aa2
        # Competent body: Công an cấp xã (mapped to CAT in the demo). The fee is the counter fee (nộp trực tiếp).
        "code": "1.004222",
        "name": "Đăng ký thường trú",
        "field": "Đăng ký, quản lý cư trú",
        "department": "CAT",
        "processing_days": 7,
        "fee": 20000,
        "fee_note": (
            "20.000 đ/lần khi nộp trực tiếp; 10.000 đ/lần khi nộp trực tuyến (Thông tư số 75/2022/TT-BTC, sửa "
            "đổi bởi Thông tư số 71/2025/TT-BTC); miễn cho các đối tượng tại Điều 4 Thông tư số 75/2022/TT-BTC"
        ),
        "on_supplement": RESUME,  # our reading
        "legal_basis": "QĐ 1523/QĐ-BCA-C06; Luật Cư trú 68/2020/QH14; TT 53/2025/TT-BCA",
        "result": "Thông báo kết quả giải quyết thủ tục về cư trú; cập nhật thông tin trong Cơ sở dữ liệu về cư trú",
        "components": (
            (
                "Tờ khai thay đổi thông tin cư trú (mẫu CT01 ban hành kèm theo Thông tư số 53/2025/TT-BCA)",
                ORIGINAL,
                1,
                True,
            ),
            (
                "Giấy tờ, tài liệu chứng minh chỗ ở hợp pháp (chỉ khi không khai thác được trên VNeID hoặc cơ sở "
                "dữ liệu)",
                ORIGINAL,
                1,
                False,
            ),
            (
                "Hợp đồng, văn bản về việc cho thuê, cho mượn, cho ở nhờ được công chứng hoặc chứng thực (trường "
                "hợp thuê, mượn, ở nhờ)",
                ORIGINAL,
                1,
                False,
            ),
            (
                "Giấy tờ, tài liệu chứng minh đủ diện tích nhà ở (trường hợp thuê, mượn, ở nhờ; chỉ khi không khai "
                "thác được trong cơ sở dữ liệu)",
                ORIGINAL,
                1,
                False,
            ),
            (
                "Giấy tờ, tài liệu chứng minh quan hệ nhân thân với chủ hộ, thành viên hộ gia đình (chỉ khi không "
                "khai thác được trong cơ sở dữ liệu)",
                ORIGINAL,
                1,
                False,
            ),
        ),
    },
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bf7-7f19-762d-be5e-741f71796016
        # 1 working day when the data is in the national population database; 3 when it must be verified.
        "code": "1.010041",
        "name": "Xác nhận thông tin về cư trú",
        "field": "Đăng ký, quản lý cư trú",
        "department": "CAT",
        "processing_days": 1,
        "fee": 0,
        "fee_note": "Miễn phí",
        "on_supplement": RESUME,  # our reading
        "legal_basis": "QĐ 9354/QĐ-BCA-C06; Luật Cư trú 68/2020/QH14; TT 53/2025/TT-BCA",
        "result": "Xác nhận thông tin về cư trú (mẫu CT07)",
        "components": (
            (
                "Tờ khai thay đổi thông tin cư trú (mẫu CT01 ban hành kèm theo Thông tư số 53/2025/TT-BCA)",
                ORIGINAL,
                1,
                True,
            ),
        ),
    },
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bf7-bda8-740c-9f49-ddaae438530d
        # Handled by Cục CSGT / Phòng CSGT Công an tỉnh / Công an cấp xã receiving points.
        "code": "3.000347",
        "name": "Đổi giấy phép lái xe",
        "field": "Sát hạch, cấp giấy phép lái xe",
        "department": "CAT",
        "processing_days": 5,
        "fee": 135000,
        "fee_note": (
            "Lệ phí cấp giấy phép lái xe 135.000 đ/lần; nộp trực tuyến từ 01/12/2023 đến hết 31/12/2025: 115.000 đ/lần"
        ),
        "on_supplement": RESUME,  # our reading
        "legal_basis": "QĐ 1025/QĐ-BCA; TT 12/2025/TT-BCA; TT 37/2023/TT-BTC",
        "result": "Giấy phép lái xe",
        "components": (
            (
                "Đề nghị đổi giấy phép lái xe theo mẫu tại Phụ lục XII Thông tư số 12/2025/TT-BCA",
                ORIGINAL,
                1,
                True,
            ),
            (
                "Bản sao giấy phép lái xe (hoặc Quyết định xử phạt vi phạm hành chính đối với giấy phép lái xe tích "
                "hợp đang bị tước quyền sử dụng)",
                COPY,
                1,
                True,
            ),
            (
                "Giấy khám sức khỏe của người lái xe còn hiệu lực (trừ người có giấy phép lái xe hạng A1, A, B1)",
                ORIGINAL,
                1,
                False,
            ),
            (
                "Hộ chiếu còn thời hạn sử dụng (người nước ngoài, người Việt Nam định cư ở nước ngoài)",
                ORIGINAL,
                1,
                False,
            ),
            (
                "Các giấy tờ khác theo điểm d khoản 1 Điều 21 Thông tư số 12/2025/TT-BCA (nếu có)",
                ORIGINAL,
                1,
                False,
            ),
        ),
    },
    # ------------------------------------------------------------------ Đăng ký kinh doanh ---------------------
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfb-d76d-737f-81b9-69258b07240b
        # Cơ quan đăng ký kinh doanh cấp xã. The portal shows 150.000 đ for online and postal filing but
        # "50,000 VNĐ" for the in-person row (inconsistent); we seed 150.000 đ, the figure procedures.md records.
        "code": "1.001612",
        "name": "Đăng ký thành lập hộ kinh doanh",
        "field": "Thành lập và hoạt động doanh nghiệp (hộ kinh doanh)",
        "department": "UBND-PHUONG",
        "processing_days": 3,
        "fee": 150000,
        "fee_note": (
            "150.000 đ theo Cổng Dịch vụ công quốc gia; mức lệ phí cụ thể do HĐND tỉnh quyết định (Thông tư số "
            "85/2019/TT-BTC); nộp khi nộp hồ sơ, không hoàn trả nếu không được cấp đăng ký"
        ),
        "on_supplement": RESUME,  # our reading
        "legal_basis": "QĐ 2353/QĐ-BTC; NĐ 168/2025/NĐ-CP; TT 68/2025/TT-BTC",
        "result": "Giấy chứng nhận đăng ký hộ kinh doanh",
        "components": (
            ("Giấy đề nghị đăng ký hộ kinh doanh", ORIGINAL, 1, True),
            (
                "Bản sao văn bản ủy quyền được công chứng hoặc chứng thực của các thành viên hộ gia đình cho một "
                "thành viên làm chủ hộ kinh doanh (hộ kinh doanh do các thành viên hộ gia đình đăng ký thành lập)",
                COPY,
                1,
                False,
            ),
            (
                "Giấy tờ ủy quyền thực hiện thủ tục: văn bản ủy quyền cho cá nhân (không bắt buộc công chứng, chứng "
                "thực); hoặc bản sao hợp đồng dịch vụ kèm giấy giới thiệu của tổ chức; hoặc bản sao phiếu gửi hồ sơ "
                "của bưu chính công ích",
                COPY,
                1,
                False,
            ),
            (
                "Bản sao thẻ Căn cước hoặc thẻ Căn cước công dân của người ủy quyền (nếu chưa có tài khoản định "
                "danh điện tử)",
                COPY,
                1,
                False,
            ),
        ),
    },
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfc-d9ca-768c-a8f4-cc0dff5f41ed
        # The time column says "1"; the procedure text and procedures.md say 3 working days.
        "code": "2.000720",
        "name": "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh",
        "field": "Thành lập và hoạt động doanh nghiệp (hộ kinh doanh)",
        "department": "UBND-PHUONG",
        "processing_days": 3,
        "fee": 0,  # amount set by each province's HĐND; the portal's fee column says "Miễn phí"
        "fee_note": "Mức lệ phí do HĐND tỉnh quyết định (Thông tư số 85/2019/TT-BTC)",
        "on_supplement": RESUME,  # our reading
        "legal_basis": "QĐ 2353/QĐ-BTC; NĐ 168/2025/NĐ-CP; TT 68/2025/TT-BTC",
        "result": (
            "Giấy chứng nhận đăng ký hộ kinh doanh (hoặc cập nhật thông tin thay đổi trong Cơ sở dữ liệu về đăng "
            "ký hộ kinh doanh)"
        ),
        "components": (
            (
                "Giấy đề nghị đăng ký thay đổi nội dung đăng ký hộ kinh doanh do chủ hộ kinh doanh ký",
                ORIGINAL,
                1,
                True,
            ),
            (
                "Bản sao văn bản ủy quyền được công chứng hoặc chứng thực của thành viên hộ gia đình (khi thay đổi "
                "chủ hộ kinh doanh hoặc tiếp nhận thành viên mới)",
                COPY,
                1,
                False,
            ),
            (
                "Bản sao giấy chứng tử hoặc quyết định của Tòa án (khi thay đổi chủ hộ do chủ hộ chết, bị tuyên bố "
                "đã chết, mất tích, bị hạn chế hoặc mất năng lực hành vi dân sự)",
                COPY,
                1,
                False,
            ),
            (
                "Văn bản ủy quyền cho cá nhân thực hiện thủ tục (không bắt buộc công chứng, chứng thực), nếu ủy quyền",
                ORIGINAL,
                1,
                False,
            ),
        ),
    },
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfc-e1a5-760c-baee-16e992894abe
        # Sở Tài chính (business registration office, formerly under Sở KH&ĐT). The portal shows "25 VNĐ"
        # (= 25.000 đ, lệ phí for paper/postal filing) and "100 VNĐ" (= 100.000 đ, phí công bố, online row).
        # `fee` is the counter lệ phí only; the publication fee is in the note.
        "code": "2.002041",
        "name": (
            "Đăng ký thay đổi địa chỉ trụ sở chính, đăng ký đổi tên của doanh nghiệp; Thông báo thay đổi ngành, "
            "nghề kinh doanh; Thông báo thay đổi nội dung đăng ký thuế"
        ),
        "field": "Thành lập và hoạt động của doanh nghiệp",
        "department": "STC",
        "processing_days": 3,
        "fee": 25000,
        "fee_note": (
            "Lệ phí 25.000 đ/lần khi nộp trực tiếp hoặc qua bưu chính (bằng 50% mức thu theo Thông tư số "
            "64/2025/TT-BTC, áp dụng từ 01/7/2025 đến 31/12/2026); phí công bố nội dung đăng ký doanh nghiệp "
            "100.000 đ/lần (Thông tư số 47/2019/TT-BTC)"
        ),
        "on_supplement": RESUME,  # our reading
        "legal_basis": "QĐ 4166/QĐ-BTC; NĐ 168/2025/NĐ-CP; TT 47/2019/TT-BTC; TT 64/2025/TT-BTC",
        "result": (
            "Giấy chứng nhận đăng ký doanh nghiệp (đổi tên, đổi địa chỉ trụ sở chính) hoặc Giấy xác nhận về việc "
            "thay đổi nội dung đăng ký doanh nghiệp (nếu doanh nghiệp có nhu cầu)"
        ),
        "components": (
            (
                "Giấy đề nghị đăng ký thay đổi nội dung đăng ký doanh nghiệp (đổi tên, đổi địa chỉ trụ sở chính) "
                "hoặc Thông báo thay đổi nội dung đăng ký doanh nghiệp (thay đổi ngành, nghề kinh doanh; nội dung "
                "đăng ký thuế)",
                ORIGINAL,
                1,
                True,
            ),
            (
                "Nghị quyết hoặc quyết định của chủ sở hữu công ty, Hội đồng thành viên hoặc Đại hội đồng cổ đông "
                "về việc thay đổi (không yêu cầu khi chỉ thay đổi nội dung đăng ký thuế)",
                ORIGINAL_OR_COPY,
                1,
                False,
            ),
            (
                "Văn bản ủy quyền cho cá nhân thực hiện thủ tục (không bắt buộc công chứng, chứng thực), nếu ủy quyền",
                ORIGINAL,
                1,
                False,
            ),
            (
                "Giấy giới thiệu hoặc văn bản phân công nhiệm vụ của tổ chức làm dịch vụ (nếu ủy quyền cho tổ chức)",
                ORIGINAL,
                1,
                False,
            ),
            ("Bản sao hợp đồng ủy quyền cho tổ chức thực hiện thủ tục (nếu ủy quyền cho tổ chức)", COPY, 1, False),
        ),
    },
    # ------------------------------------------------------------------ Xây dựng (UBND cấp xã) -----------------
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfe-9088-744d-aa0a-e846b6dce3d5
        # 15 days for nhà ở riêng lẻ (20 for other works), counted "kể từ ngày nhận đủ hồ sơ hợp lệ". Components
        # are section (1.7) "nhà ở riêng lẻ"; the portal's "giấy phép sửa chữa, cải tạo" in that form's title
        # looks like a copy error and is not repeated here.
        "code": "1.013225",
        "name": (
            "Cấp giấy phép xây dựng mới đối với công trình cấp III, cấp IV (Công trình không theo tuyến/Theo tuyến "
            "trong đô thị/Tín ngưỡng, tôn giáo/Tượng đài, tranh hoành tráng/Theo giai đoạn cho công trình không "
            "theo tuyến/Theo giai đoạn cho công trình theo tuyến trong đô thị/Dự án) và nhà ở riêng lẻ"
        ),
        "field": "Hoạt động xây dựng",
        "department": "UBND-PHUONG",
        "processing_days": 15,
        "fee": 0,  # amount set by each province's HĐND; none given by the portal
        "fee_note": "Lệ phí cấp giấy phép xây dựng theo mức do HĐND tỉnh quyết định",
        "on_supplement": RESTART,  # our reading: the law counts from a complete dossier
        "legal_basis": "QĐ 56/QĐ-BXD; Luật Xây dựng; NĐ 175/2024/NĐ-CP",
        "result": "Giấy phép xây dựng",
        "components": (
            (
                "Đơn đề nghị cấp giấy phép xây dựng theo Mẫu số 1 Phụ lục II Nghị định số 175/2024/NĐ-CP",
                ORIGINAL_OR_COPY,
                1,
                True,
            ),
            (
                "Một trong những giấy tờ hợp pháp về đất đai theo Điều 53 Nghị định số 175/2024/NĐ-CP (không phải "
                "nộp nếu đã có trong Cơ sở dữ liệu quốc gia về đất đai)",
                ORIGINAL_OR_COPY,
                1,
                True,
            ),
            (
                "Bộ bản vẽ thiết kế xây dựng: mặt bằng công trình trên lô đất kèm sơ đồ vị trí; mặt bằng các tầng, "
                "các mặt đứng và mặt cắt chính; mặt bằng móng, mặt cắt móng kèm sơ đồ đấu nối hạ tầng kỹ thuật "
                "(cấp nước, thoát nước, cấp điện)",
                ORIGINAL_OR_COPY,
                2,
                True,
            ),
            (
                "Bản cam kết bảo đảm an toàn đối với công trình liền kề (nếu có công trình liền kề)",
                ORIGINAL,
                1,
                False,
            ),
            (
                "Kết quả thực hiện thủ tục hành chính về phòng cháy và chữa cháy (nếu pháp luật về phòng cháy, chữa "
                "cháy có yêu cầu)",
                ORIGINAL_OR_COPY,
                1,
                False,
            ),
        ),
    },
    # ------------------------------------------------------------------ Đất đai (Sở NN&MT) ---------------------
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfa-8678-770b-8917-1872078767cd
        # Decided by Chủ tịch UBND xã together with Văn phòng / Chi nhánh Văn phòng đăng ký đất đai (under Sở NN&MT,
        # hence SNNMT in the demo). The dossier is posted publicly at the commune for 15 days (NĐ 151/2025).
        # Time "theo Cổng DVCQG": the portal shows 17 (trực tuyến) / 20 (bưu chính) / 27 (trực tiếp) working
        # days, which look like data-entry errors; we seed the middle figure, 20.
        "code": "1.013978",
        "name": (
            "Đăng ký đất đai, tài sản gắn liền với đất, cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản "
            "gắn liền với đất lần đầu đối với hộ gia đình, cá nhân, cộng đồng dân cư, người gốc Việt Nam định cư ở "
            "nước ngoài"
        ),
        "field": "Đất đai",
        "department": "SNNMT",
        "processing_days": 20,  # theo Cổng DVCQG (17/20/27 by channel)
        "fee": 0,  # set by each province's HĐND under the Law on Fees and Charges; none given by the portal
        "fee_note": (
            "Lệ phí cấp Giấy chứng nhận và phí thẩm định hồ sơ theo mức do HĐND tỉnh quyết định (Luật Phí và lệ "
            "phí); tiền sử dụng đất, lệ phí trước bạ (nếu có) theo thông báo của cơ quan thuế"
        ),
        "on_supplement": RESTART,  # our reading: the law counts from a complete dossier
        "legal_basis": "QĐ 3380/QĐ-BNNMT; Luật Đất đai 31/2024/QH15; NĐ 151/2025/NĐ-CP",
        "result": (
            "Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất (hoặc Thông báo xác nhận kết "
            "quả đăng ký đất đai)"
        ),
        "components": (
            ("Đơn đăng ký đất đai, tài sản gắn liền với đất", ORIGINAL_OR_COPY, 1, True),
            (
                "Một trong các loại giấy tờ về quyền sử dụng đất quy định tại Điều 137, Điều 148, Điều 149 Luật Đất "
                "đai; sơ đồ nhà ở, công trình xây dựng (nếu có)",
                ORIGINAL_OR_COPY,
                1,
                False,
            ),
            ("Mảnh trích đo bản đồ địa chính thửa đất (nếu có)", ORIGINAL_OR_COPY, 1, False),
            (
                "Văn bản xác định các thành viên có chung quyền sử dụng đất của hộ gia đình (trường hợp hộ gia đình "
                "đang sử dụng đất)",
                ORIGINAL_OR_COPY,
                1,
                False,
            ),
            (
                "Giấy tờ về việc nhận thừa kế, chuyển quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất "
                "(nếu có)",
                ORIGINAL_OR_COPY,
                1,
                False,
            ),
            (
                "Chứng từ thực hiện nghĩa vụ tài chính, giấy tờ về miễn, giảm nghĩa vụ tài chính về đất đai (nếu có)",
                ORIGINAL_OR_COPY,
                1,
                False,
            ),
            (
                "Văn bản về việc đại diện theo quy định của pháp luật về dân sự (nếu thực hiện thông qua người đại "
                "diện)",
                ORIGINAL_OR_COPY,
                1,
                False,
            ),
            (
                "Văn bản thỏa thuận về việc cấp chung một Giấy chứng nhận (nếu có nhiều người chung quyền sử dụng "
                "đất, chung quyền sở hữu tài sản gắn liền với đất)",
                ORIGINAL_OR_COPY,
                1,
                False,
            ),
        ),
    },
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfa-7ece-728d-9b60-6563e0a7a94e
        # Văn phòng / Chi nhánh Văn phòng đăng ký đất đai (cấp tỉnh, under Sở NN&MT). The official name (about 590
        # characters) is cut after the transfer cases to fit the 500-character name column; the remaining cases
        # (cho thuê lại trong dự án hạ tầng, tài sản trên đất thuê trả tiền hằng năm) are elided with "…".
        # Time "theo Cổng DVCQG": 18 (trực tuyến) / 4 (bưu chính) / 18 (trực tiếp) working days; we seed 18.
        # Tax and registration-fee rates in the note are general knowledge (procedures.md: R).
        "code": "1.013831",
        "name": (
            "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất trong các trường hợp chuyển "
            "đổi quyền sử dụng đất nông nghiệp mà không theo phương án dồn điền, đổi thửa; chuyển nhượng, thừa kế, "
            "tặng cho quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất, góp vốn bằng quyền sử dụng đất, "
            "quyền sở hữu tài sản gắn liền với đất; …"
        ),
        "field": "Đất đai",
        "department": "SNNMT",
        "processing_days": 18,  # theo Cổng DVCQG (18/4/18 by channel)
        "fee": 0,  # set by each province's HĐND; none given by the portal
        "fee_note": (
            "Lệ phí, phí theo mức do HĐND tỉnh quyết định (Luật Phí và lệ phí); trường hợp chuyển nhượng: thuế thu "
            "nhập cá nhân 2% và lệ phí trước bạ 0,5% theo thông báo của cơ quan thuế"
        ),
        "on_supplement": RESTART,  # our reading: the law counts from a complete dossier
        "legal_basis": "QĐ 3380/QĐ-BNNMT; Luật Đất đai 31/2024/QH15; NĐ 151/2025/NĐ-CP",
        "result": (
            "Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất (cấp mới hoặc xác nhận thay "
            "đổi trên Giấy chứng nhận đã cấp)"
        ),
        "components": (
            (
                "Đơn đăng ký biến động đất đai, tài sản gắn liền với đất theo Mẫu số 18",
                ORIGINAL_OR_COPY,
                1,
                True,
            ),
            (
                "Hợp đồng hoặc văn bản về việc chuyển quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất "
                "(chuyển đổi, chuyển nhượng, thừa kế, tặng cho, góp vốn)",
                ORIGINAL_OR_COPY,
                1,
                True,
            ),
            ("Bản gốc Giấy chứng nhận đã cấp", ORIGINAL, 1, True),
            (
                "Văn bản về việc đại diện theo quy định của pháp luật về dân sự (nếu thực hiện thông qua người đại "
                "diện)",
                ORIGINAL_OR_COPY,
                1,
                False,
            ),
            (
                "Bản vẽ tách thửa đất, hợp thửa đất theo Mẫu số 22 ban hành kèm theo Nghị định số 151/2025/NĐ-CP "
                "(nếu phải tách, hợp thửa)",
                ORIGINAL_OR_COPY,
                1,
                False,
            ),
            (
                "Mảnh trích đo bản đồ địa chính thửa đất (nếu có nhu cầu đo đạc xác định lại kích thước, diện tích)",
                ORIGINAL_OR_COPY,
                1,
                False,
            ),
            (
                "Văn bản của bên nhận thế chấp đồng ý cho chuyển nhượng, tặng cho (nếu đang thế chấp)",
                ORIGINAL_OR_COPY,
                1,
                False,
            ),
        ),
    },
    # ------------------------------------------------------------------ Nông nghiệp, môi trường (Sở NN&MT) -----
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfa-b57f-73cc-856f-0255333fcb48
        # "Cơ quan chức năng do UBND cấp tỉnh chỉ định" (agriculture sector). Portal fee "700 VNĐ" = 700.000 đ.
        "code": "2.001827",
        "name": (
            "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đối với cơ sở sản xuất, kinh doanh thực phẩm "
            "nông, lâm, thủy sản"
        ),
        "field": "Quản lý chất lượng nông lâm sản và thủy sản",
        "department": "SNNMT",
        "processing_days": 15,  # portal: "15 Ngày", kể từ ngày nhận đủ hồ sơ hợp lệ
        "fee": 700000,
        "fee_note": "Phí thẩm định cấp Giấy chứng nhận an toàn thực phẩm: 700.000 đ/cơ sở",
        "on_supplement": RESTART,  # our reading: counted from a complete dossier, with an on-site appraisal
        "legal_basis": "QĐ 1908/QĐ-BNNMT; Luật An toàn thực phẩm 55/2010/QH12; TT 17/2025/TT-BNNMT",
        "result": "Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm",
        "components": (
            (
                "Đơn đề nghị cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm theo mẫu tại Phụ lục I Thông "
                "tư số 17/2025/TT-BNNMT",
                ORIGINAL,
                1,
                True,
            ),
            (
                "Bản thuyết minh về cơ sở vật chất, trang thiết bị, dụng cụ bảo đảm điều kiện vệ sinh an toàn thực "
                "phẩm theo mẫu tại Phụ lục II Thông tư số 17/2025/TT-BNNMT",
                ORIGINAL,
                1,
                True,
            ),
        ),
    },
    {
        # dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfa-57a8-7645-92f1-3b0aa3ad976f
        # Issued by UBND cấp tỉnh, dossier appraised by Sở NN&MT. 15 days for projects that need no trial operation
        # of waste-treatment works, 30 days otherwise (the portal's channel column shows 30). The record says the
        # time spent on supplementation is not counted and re-appraisal after it takes at most 5 (or 10) days.
        "code": "1.010727",
        "name": "Cấp giấy phép môi trường (cấp Tỉnh)",
        "field": "Môi trường",
        "department": "SNNMT",
        "processing_days": 15,
        "fee": 0,  # amount set by each province's HĐND; none given by the portal
        "fee_note": "Phí thẩm định cấp giấy phép môi trường theo mức do HĐND tỉnh quyết định",
        "on_supplement": RESTART,  # our reading: the law counts from a complete dossier
        "legal_basis": "QĐ 418/QĐ-BNNMT; Luật Bảo vệ môi trường 72/2020/QH14; NĐ 08/2022/NĐ-CP",
        "result": "Giấy phép môi trường",
        "components": (
            (
                "Văn bản đề nghị cấp giấy phép môi trường theo Mẫu số 22a Thông tư số 09/2026/TT-BNNMT",
                ORIGINAL,
                1,
                True,
            ),
            (
                "Báo cáo đề xuất cấp giấy phép môi trường theo Mẫu số 22b, 22c hoặc 22d Thông tư số "
                "09/2026/TT-BNNMT (tùy trường hợp)",
                ORIGINAL,
                1,
                True,
            ),
            (
                "Bản sao báo cáo nghiên cứu khả thi hoặc tài liệu tương đương (dự án không thuộc đối tượng phải "
                "đánh giá tác động môi trường)",
                COPY,
                1,
                False,
            ),
        ),
    },
)


def procedure_codes():
    return [p["code"] for p in PROCEDURES]
