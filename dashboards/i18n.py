"""UI strings in Bahasa Indonesia (default) and English.

Every string a user reads goes through :func:`t`. Keys are stable English identifiers;
``STRINGS[key] = (id, en)``. Format placeholders use ``str.format`` names.
"""

from __future__ import annotations

from typing import Any, Literal

Lang = Literal["id", "en"]
LANGS: tuple[Lang, ...] = ("id", "en")
DEFAULT_LANG: Lang = "id"

STRINGS: dict[str, tuple[str, str]] = {
    # vehicle counts (camera page)
    "vehicles": ("Kendaraan per bingkai", "Vehicles per frame"),
    "veh_cars_mean": ("mobil", "cars"),
    "veh_motorcycles_mean": ("sepeda motor", "motorcycles"),
    "veh_buses_trucks_mean": ("bus/truk", "buses/trucks"),
    # camera registry (operator page)
    "nav_registry": ("Registri kamera", "Camera registry"),
    "reg_title": ("Registri kamera", "Camera registry"),
    "reg_caption": (
        "Kamera terencana, terpasang dan pensiun; setiap perubahan tercatat (siapa, kapan, apa). "
        "Ubah lewat `pantau cameras add|import|edit|install|retire|accept-plan`.",
        "Planned, installed and retired cameras; every change is recorded (who, when, what). "
        "Change them with `pantau cameras add|import|edit|install|retire|accept-plan`.",
    ),
    "reg_live": ("Kamera aktif", "Live cameras"),
    "reg_capturable": ("Aktif dengan stream", "Live with a stream"),
    "reg_capturable_help": (
        "Kamera aktif dengan stream HLS, RTSP, MJPEG atau snapshot; sisanya hanya punya halaman penampil.",
        "Live cameras with an HLS, RTSP, MJPEG or snapshot stream; the others only have a viewer page.",
    ),
    "reg_planned": ("Terencana", "Planned"),
    "reg_retired": ("Pensiun", "Retired"),
    "reg_planned_help": (
        "Lokasi rencana yang diterima (`pantau cameras accept-plan`); masuk cakupan setelah terpasang.",
        "Plan sites accepted (`pantau cameras accept-plan`); they count in coverage once installed.",
    ),
    "reg_status_installed": ("terpasang", "installed"),
    "reg_status_planned": ("terencana", "planned"),
    "reg_status_retired": ("pensiun", "retired"),
    "reg_cameras": ("Kamera", "Cameras"),
    "reg_by_kota": ("Terencana vs aktif per kota", "Planned vs live by kota"),
    "reg_history": ("Riwayat", "History"),
    "reg_live_on": ("Tanggal", "Date"),
    "reg_live_on_count": ("Kamera aktif pada {day}", "Cameras live on {day}"),
    "reg_search": ("Cari id atau nama", "Search id or name"),
    "reg_updated": ("Diubah", "Changed"),
    "reg_has_secret": ("Kredensial (referensi)", "Credentials (reference)"),
    "reg_changes": ("Perubahan terakhir", "Latest changes"),
    "reg_rejects": ("Baris impor yang ditolak", "Rejected import rows"),
    # app / navigation
    "app_title": ("Pantau — Jakarta", "Pantau — Jakarta"),
    "language": ("Bahasa", "Language"),
    "nav_overview": ("Ringkasan", "Overview"),
    "nav_camera": ("Kamera", "Camera"),
    "nav_kelurahan": ("Kelurahan", "Kelurahan"),
    "nav_alerts": ("Peringatan", "Alerts"),
    "nav_subscriptions": ("Langganan", "Subscriptions"),
    "nav_jaki": ("Penggunaan Jaki", "Jaki usage"),
    "nav_quality": ("Kualitas & kesegaran data", "Data quality & freshness"),
    "nav_planning": ("Perencanaan", "Planning"),
    "nav_open_data": ("Data terbuka", "Open data"),
    "section_monitor": ("Pemantauan", "Monitoring"),
    "section_services": ("Layanan", "Services"),
    "section_admin": ("Operasional", "Operations"),
    "data_dir": ("Folder data", "Data folder"),
    "times_in_wib": ("Semua waktu dalam WIB (Asia/Jakarta).", "All times in WIB (Asia/Jakarta)."),
    "page_error": (
        "Maaf, halaman ini gagal dimuat. Kesalahan sudah dicatat; coba muat ulang sebentar lagi.",
        "Sorry, this page failed to load. The error was logged; try reloading in a moment.",
    ),
    "no_lake": (
        "Belum ada lakehouse di {path}. Jalankan `pantau demo` atau `pantau migrate` terlebih dahulu.",
        "No lakehouse at {path} yet. Run `pantau demo` or `pantau migrate` first.",
    ),
    "empty": ("Belum ada data.", "No data yet."),
    "all": ("Semua", "All"),
    "last_data": ("Data terakhir: {time} WIB", "Latest data: {time} WIB"),
    "empty_table": (
        "Belum ada data {what}. Data akan muncul setelah pipeline mengisinya.",
        "No {what} data yet. It appears once the pipeline fills it.",
    ),
    "last_refresh": ("Diperbarui {time} WIB", "Refreshed {time} WIB"),
    # levels / hazards / health
    "level_Normal": ("Normal", "Normal"),
    "level_Waspada": ("Waspada", "Advisory"),
    "level_Siaga": ("Siaga", "Alert"),
    "level_Awas": ("Awas", "Warning"),
    "level_unknown": ("Tanpa data", "No data"),
    "hazard_fire": ("kebakaran", "fire"),
    "hazard_smoke": ("asap", "smoke"),
    "hazard_flood": ("banjir", "flood"),
    "hazard_crowd": ("kerumunan", "crowd"),
    "hazard_camera": ("gangguan kamera", "camera fault"),
    "hazard_panic": ("tombol darurat", "panic button"),
    "health_ok": ("sehat", "healthy"),
    "health_offline": ("luring", "offline"),
    "health_frozen": ("beku", "frozen"),
    "health_black": ("gelap", "black"),
    "health_overexposed": ("silau", "overexposed"),
    "health_tampered": ("diganggu", "tampered"),
    "health_decode_error": ("gagal dekode", "decode error"),
    "health_unknown": ("tak diketahui", "unknown"),
    # overview
    "overview_title": ("Ringkasan risiko Jakarta", "Jakarta risk overview"),
    "m_cameras": ("Kamera", "Cameras"),
    "m_cameras_live": ("Kamera aktif (1 jam)", "Cameras live (1 h)"),
    "m_active_alerts": ("Peringatan aktif", "Active alerts"),
    "m_kel_at_risk": ("Kelurahan berisiko", "Kelurahan at risk"),
    "m_unhealthy": ("Kamera bermasalah", "Cameras with issues"),
    "map_title": ("Peta kamera dan risiko kelurahan", "Camera and kelurahan risk map"),
    "map_interactive": ("Peta interaktif (perbesar, geser)", "Interactive map (zoom, pan)"),
    "map_interactive_help": (
        "Peta WebGL yang bisa diperbesar dan digeser; tanpa GPU, peta ini butuh sekitar satu detik lebih lama untuk tampil.",
        "A WebGL map you can zoom and pan; without a GPU it takes about a second longer to appear.",
    ),
    "map_legend": (
        "Warna titik = tingkat risiko terkini; titik bergaris merah = kamera bermasalah. "
        "Warna area = risiko tertinggi kelurahan dalam 3 jam terakhir.",
        "Dot colour = current risk level; red outline = camera with a health issue. "
        "Area colour = highest kelurahan risk in the last 3 hours.",
    ),
    "no_cameras": (
        "Belum ada kamera di inventaris. Muat data referensi (`pantau load-reference`).",
        "No cameras in the inventory yet. Load the reference data (`pantau load-reference`).",
    ),
    "active_alerts": ("Peringatan aktif", "Active alerts"),
    "no_active_alerts": ("Tidak ada peringatan aktif.", "No active alerts."),
    "risk_distribution": ("Sebaran tingkat risiko kamera", "Camera risk levels"),
    "tooltip_camera": ("Kamera", "Camera"),
    # camera
    "camera_title": ("Kamera", "Camera"),
    "choose_camera": ("Pilih kamera", "Choose a camera"),
    "latest_keyframe": ("Keyframe terbaru (wajah & pelat diburamkan)", "Latest keyframe (faces & plates blurred)"),
    "no_keyframe": ("Belum ada keyframe publik untuk kamera ini.", "No public keyframe for this camera yet."),
    "keyframe_unreadable": ("Keyframe tidak dapat dibaca: {uri}", "Keyframe cannot be read: {uri}"),
    "captured_at": ("Diambil", "Captured"),
    "location": ("Lokasi", "Location"),
    "operator": ("Operator", "Operator"),
    "current_level": ("Tingkat saat ini", "Current level"),
    "current_health": ("Kesehatan", "Health"),
    "passthrough_camera": (
        "Penilaian pass-through: kamera ini hanya dinilai gerakan dan kesehatannya; kebakaran, banjir dan kerumunan "
        "tidak dideteksi dan tidak memicu peringatan.",
        "Pass-through scoring: this camera is scored for motion and health only; fire, flood and crowds are not "
        "detected and raise no alerts.",
    ),
    "passthrough_cameras": (
        "{n} kamera dengan penilaian pass-through: bahaya tidak dideteksi dan tidak memicu peringatan.",
        "{n} camera(s) on pass-through scoring: hazards are not detected and raise no alerts.",
    ),
    "window": ("Rentang waktu", "Time range"),
    "hours_n": ("{n} jam", "{n} hours"),
    "days_n": ("{n} hari", "{n} days"),
    "in_future": ("⚠ +{n}", "⚠ +{n}"),
    "future_rows_note": (
        "⚠ +: baris terbaru tabel ini bertanggal di masa depan (jam sumber atau ekspor salah, atau data simulasi).",
        "⚠ +: this table's newest row is dated in the future (a wrong source clock or export, or simulated data).",
    ),
    "scores_timeline": ("Skor bahaya", "Hazard scores"),
    "health_timeline": ("Kesehatan kamera", "Camera health"),
    "uptime": ("Ketersediaan", "Uptime"),
    "events": ("Kejadian per jendela", "Events per window"),
    "level_changes": ("Perubahan tingkat dan alasannya", "Level changes and why"),
    "level_change_line": (
        "**{time}** — {from_level} → **{to_level}** karena {hazard} (skor {score}){extra}",
        "**{time}** — {from_level} → **{to_level}** due to {hazard} (score {score}){extra}",
    ),
    "no_level_changes": ("Tidak ada perubahan tingkat pada rentang ini.", "No level changes in this range."),
    "camera_alerts": ("Peringatan kamera ini", "Alerts for this camera"),
    "health_changes": ("Perubahan status kesehatan", "Health status changes"),
    "score": ("Skor", "Score"),
    "time": ("Waktu (WIB)", "Time (WIB)"),
    "hazard": ("Bahaya", "Hazard"),
    "level": ("Tingkat", "Level"),
    "status": ("Status", "Status"),
    "reason": ("Alasan", "Reason"),
    "persons": ("Orang", "Persons"),
    # kelurahan
    "kelurahan_title": ("Kelurahan", "Kelurahan"),
    "choose_kelurahan": ("Pilih kelurahan", "Choose a kelurahan"),
    "no_kelurahan": (
        "Belum ada data kelurahan. Muat data referensi (`pantau load-reference`).",
        "No kelurahan data yet. Load the reference data (`pantau load-reference`).",
    ),
    "population": ("Penduduk", "Population"),
    "households": ("Kepala keluarga", "Households"),
    "area_km2": ("Luas (km²)", "Area (km²)"),
    "density": ("Kepadatan (/km²)", "Density (/km²)"),
    "risk_history": ("Riwayat risiko", "Risk history"),
    "cameras_inside": ("Kamera di kelurahan ini", "Cameras in this kelurahan"),
    "coverage": ("Cakupan kamera", "Camera coverage"),
    "coverage_layer": ("Lapisan", "Layer"),
    "covered_share": ("Porsi tercakup", "Covered share"),
    "jaki_usage": ("Penggunaan Jaki", "Jaki usage"),
    "complaints": ("Aduan", "Complaints"),
    "history_2024": ("Riwayat 2024", "2024 history"),
    "flood_events_2024": ("Kejadian banjir 2024", "Flood events 2024"),
    "fire_incidents_2024": ("Kebakaran 2024", "Fires 2024"),
    # alerts
    "alerts_title": ("Peringatan", "Alerts"),
    "filter_status": ("Status", "Status"),
    "filter_hazard": ("Bahaya", "Hazard"),
    "filter_level": ("Tingkat", "Level"),
    "filter_days": ("Hari terakhir", "Last days"),
    "active_tab": ("Aktif", "Active"),
    "past_tab": ("Riwayat", "Past"),
    "no_alerts": ("Belum ada peringatan.", "No alerts yet."),
    "alert_detail": ("Detail peringatan", "Alert details"),
    "choose_alert": ("Pilih peringatan", "Choose an alert"),
    "acknowledge": ("Konfirmasi (acknowledge)", "Acknowledge"),
    "ack_by": ("Nama petugas", "Officer name"),
    "ack_done": ("Peringatan {id} dikonfirmasi.", "Alert {id} acknowledged."),
    "ack_failed": ("Konfirmasi gagal: {err}", "Acknowledgement failed: {err}"),
    # access: sign-in, roles, refusals, audit log, users
    "login": ("Masuk", "Sign in"),
    "logout": ("Keluar", "Sign out"),
    "username": ("Nama pengguna", "Username"),
    "password": ("Kata sandi", "Password"),
    "login_failed": ("Nama pengguna atau kata sandi salah.", "Wrong username or password."),
    "login_locked": (
        "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {minutes} menit.",
        "Too many failed sign-ins. Try again in {minutes} min.",
    ),
    "login_no_accounts": (
        "Belum ada akun: basis data operasional tidak ada (buat akun dengan `pantau users add`).",
        "No accounts yet: there is no operational database (create one with `pantau users add`).",
    ),
    "signed_in_as": ("Masuk sebagai **{name}** ({role})", "Signed in as **{name}** ({role})"),
    "signed_out": ("Belum masuk: akses {role}.", "Not signed in: {role} access."),
    "role_public": ("publik", "public"),
    "role_analyst": ("analis", "analyst"),
    "role_operator": ("operator", "operator"),
    "role_admin": ("admin", "admin"),
    "access_denied": (
        "Halaman atau tindakan ini tidak tersedia untuk peran {role}. Masuk dengan akun yang berwenang.",
        "This page or action is not available to the {role} role. Sign in with an account that may use it.",
    ),
    "action_refused": ("Ditolak: {err}", "Refused: {err}"),
    "cancel_alert": ("Batalkan peringatan", "Cancel alert"),
    "cancel_reason": ("Alasan pembatalan (wajib)", "Reason for cancelling (required)"),
    "cancel_done": ("Peringatan {id} dibatalkan.", "Alert {id} cancelled."),
    "cancel_failed": ("Pembatalan gagal: {err}", "Cancelling failed: {err}"),
    "nav_audit": ("Akses & audit", "Access & audit"),
    "audit_title": ("Akses & log audit", "Access & audit log"),
    "audit_log": ("Log audit (hanya-tambah)", "Audit log (append-only)"),
    "audit_note": (
        "Setiap konfirmasi, pembatalan, perubahan langganan, kamera dan akun tercatat di sini; catatan tidak dapat diubah.",
        "Every acknowledgement, cancellation and change to subscriptions, cameras and accounts is recorded here; rows cannot be changed.",
    ),
    "audit_chain_ok": ("Rantai hash utuh: {n} baris.", "Hash chain intact: {n} rows."),
    "audit_chain_broken": ("Log audit diubah di luar Pantau: {err}", "Audit log changed outside Pantau: {err}"),
    "no_audit": ("Belum ada catatan audit.", "No audit rows yet."),
    "filter_action": ("Tindakan", "Action"),
    "users_title": ("Akun", "Accounts"),
    "add_user": ("Tambah akun", "Add account"),
    "role": ("Peran", "Role"),
    "user_saved": ("Akun {name} dibuat.", "Account {name} created."),
    "user_failed": ("Akun tidak dibuat: {err}", "Account not created: {err}"),
    "ack_readonly": (
        "Konfirmasi tidak tersedia: basis data operasional peringatan tidak terhubung; tampilan hanya-baca.",
        "Acknowledgement is not available: no operational alerts database is connected; read-only view.",
    ),
    "ack_not_found": (
        "peringatan {id} tidak ada di basis data operasional peringatan",
        "alert {id} is not in the operational alerts database",
    ),
    "ack_not_active": (
        "peringatan {id} sudah berstatus {status}, tidak aktif lagi",
        "alert {id} is already {status}, no longer active",
    ),
    "status_open": ("terbuka", "open"),
    "status_updated": ("diperbarui", "updated"),
    "status_acknowledged": ("dikonfirmasi", "acknowledged"),
    "status_resolved": ("selesai", "resolved"),
    "status_cancelled": ("dibatalkan", "cancelled"),
    "cap_message": ("Pesan CAP 1.2", "CAP 1.2 message"),
    "no_cap": ("Pesan CAP belum tersedia.", "No CAP message available."),
    "deliveries": ("Pengiriman", "Deliveries"),
    "deliveries_by_state": ("Pengiriman per status", "Deliveries by state"),
    "time_to_ack": ("Waktu sampai dikonfirmasi, per instansi", "Time to acknowledge, by agency"),
    "tta_median_min": ("Median (menit)", "Median (minutes)"),
    "tta_p90_min": ("Persentil 90 (menit)", "90th percentile (minutes)"),
    "agency": ("Instansi", "Agency"),
    "acknowledged_alerts": ("Peringatan dikonfirmasi", "Alerts acknowledged"),
    "unacknowledged_alerts": ("Belum dikonfirmasi", "Not acknowledged"),
    "no_deliveries": ("Belum ada pengiriman.", "No deliveries yet."),
    "evidence": ("Bukti", "Evidence"),
    "opened_at": ("Dibuka", "Opened"),
    "updated_at": ("Diperbarui", "Updated"),
    "alerts_per_day": ("Peringatan per hari", "Alerts per day"),
    # subscriptions
    "subscriptions_title": ("Langganan peringatan", "Alert subscriptions"),
    "no_subscriptions": ("Belum ada langganan.", "No subscriptions yet."),
    "subs_by_channel": ("Langganan per kanal", "Subscriptions by channel"),
    "subs_admin_note": (
        "Langganan dikelola oleh modul peringatan (basis data operasional, atau salinan lakehouse "
        "bila basis data itu tidak ada).",
        "Subscriptions are managed by the alerts module (the operational database, or the lakehouse "
        "copy when there is none).",
    ),
    "add_subscription": ("Tambah langganan", "Add subscription"),
    "sub_saved": ("Langganan {id} disimpan.", "Subscription {id} saved."),
    "sub_failed": ("Langganan gagal disimpan: {err}", "Subscription could not be saved: {err}"),
    "name": ("Nama", "Name"),
    "kind": ("Jenis", "Kind"),
    "channel": ("Kanal", "Channel"),
    "target": ("Tujuan", "Target"),
    "area_code": ("Kode area", "Area code"),
    "min_level": ("Tingkat minimum", "Minimum level"),
    "save": ("Simpan", "Save"),
    "active": ("Aktif", "Active"),
    # jaki
    "jaki_title": ("Penggunaan Jaki", "Jaki usage"),
    "usage_by_feature": ("Penggunaan per fitur", "Usage by feature"),
    "usage_over_time": ("Penggunaan per hari", "Usage per day"),
    "usage_by_area": ("Kelurahan paling aktif", "Most active kelurahan"),
    "events_n": ("Kejadian", "Events"),
    "users_n": ("Pengguna", "Users"),
    "feature": ("Fitur", "Feature"),
    "day": ("Hari", "Day"),
    "complaint_resolution": ("Penyelesaian aduan", "Complaint resolution"),
    "resolved_share": ("Porsi selesai", "Resolved share"),
    "median_resolution": ("Median penyelesaian (jam)", "Median resolution (h)"),
    "category": ("Kategori", "Category"),
    "hospital_beds": ("Ketersediaan tempat tidur rumah sakit", "Hospital bed availability"),
    "beds_available": ("Tersedia", "Available"),
    "beds_capacity": ("Kapasitas", "Capacity"),
    "parking_occupancy": ("Okupansi parkir", "Parking occupancy"),
    "occupancy": ("Okupansi", "Occupancy"),
    "panic_presses": ("Tombol darurat per jam", "Panic button presses per hour"),
    # quality
    "quality_title": ("Kualitas & kesegaran data", "Data quality & freshness"),
    "asset_checks": ("Hasil pemeriksaan aset", "Asset check results"),
    "no_asset_checks": (
        "Hasil pemeriksaan aset belum disimpan di lakehouse (lihat Dagster UI).",
        "Asset check results are not stored in the lakehouse yet (see the Dagster UI).",
    ),
    "asset_checks_bad_table": (
        "Tabel asset_check_results tidak memiliki kolom {columns}.",
        "The asset_check_results table lacks the columns {columns}.",
    ),
    "checks_total": ("Pemeriksaan", "Checks"),
    "checks_failing": ("Gagal (terakhir)", "Failing (latest)"),
    "checks_last_run": ("Evaluasi terakhir", "Last evaluated"),
    "checks_per_day": ("Evaluasi per hari", "Evaluations per day"),
    "check_passed": ("Lulus", "Passed"),
    "check_failed": ("Gagal", "Failed"),
    "check_asset": ("Aset", "Asset"),
    "check_name": ("Pemeriksaan", "Check"),
    "check_severity": ("Tingkat", "Severity"),
    "check_description": ("Keterangan", "Description"),
    "check_failures": ("Jumlah gagal", "Failures"),
    "check_metadata": ("Metadata", "Metadata"),
    "quarantine": ("Karantina Jaki", "Jaki quarantine"),
    "quarantine_by_reason": ("Baris dikarantina per alasan", "Quarantined rows by reason"),
    "rows": ("Baris", "Rows"),
    "freshness": ("Kesegaran per tabel", "Freshness per table"),
    "table": ("Tabel", "Table"),
    "latest": ("Terbaru (WIB)", "Latest (WIB)"),
    "age": ("Usia", "Age"),
    "last_batch_per_camera": ("Batch terakhir per kamera", "Last landed batch per camera"),
    "stale_cameras": ("Kamera tanpa batch > 1 jam", "Cameras with no batch for > 1 h"),
    "landed_batches": ("Batch masuk per jam", "Batches landed per hour"),
    "reference_issues": ("Masalah data referensi", "Reference data issues"),
    "uptime_daily": ("Ketersediaan kamera harian", "Daily camera uptime"),
    # planning
    "planning_title": ("Perencanaan kamera baru", "Planning new cameras"),
    "budget": ("Anggaran (jumlah kamera)", "Budget (cameras)"),
    "radius": ("Radius pandang (m)", "View radius (m)"),
    "weights": ("Bobot lapisan risiko", "Risk layer weights"),
    "run_what_if": ("Hitung skenario", "Run scenario"),
    "what_if_result": ("Lokasi usulan (skenario)", "Proposed sites (scenario)"),
    "stored_candidates": ("Lokasi usulan tersimpan", "Stored proposed sites"),
    "no_candidates": ("Belum ada lokasi usulan.", "No proposed sites yet."),
    "what_if_failed": ("Skenario gagal dihitung: {err}", "The scenario failed: {err}"),
    "gain": ("Manfaat", "Gain"),
    "coverage_by_layer": ("Cakupan per lapisan", "Coverage per layer"),
    "uncovered_kelurahan": ("Kelurahan dengan cakupan terendah", "Least covered kelurahan"),
    "public_spaces": ("Ruang publik (RPTRA)", "Public spaces (RPTRA)"),
    "public_spaces_help": (
        "Taman dan ruang publik terpadu ramah anak dari geoportal Jakarta Satu; lapisan permintaan `public_space` "
        "(titik hijau di peta).",
        "Parks and child-friendly public spaces from the Jakarta Satu geoportal; the `public_space` demand layer "
        "(green dots on the map).",
    ),
    # open data
    "open_data_title": ("Data terbuka", "Open data"),
    "no_releases": (
        "Belum ada rilis data terbuka. Rilis dibuat oleh `pantau release`.",
        "No open-data releases yet. Releases are built by `pantau release`.",
    ),
    "release": ("Rilis", "Release"),
    "choose_release": ("Pilih rilis", "Choose a release"),
    "license": ("Lisensi", "Licence"),
    "snapshot": ("Snapshot lakehouse", "Lake snapshot"),
    "resources": ("Dataset", "Datasets"),
    "download": ("Unduh", "Download"),
    "too_large": (
        "{name} terlalu besar untuk diunduh di sini ({size}); ambil dari portal.",
        "{name} is too large to download here ({size}); use the portal.",
    ),
    "checksum": ("Checksum", "Checksum"),
    "size": ("Ukuran", "Size"),
    "format": ("Format", "Format"),
    "description": ("Deskripsi", "Description"),
    "created": ("Dibuat", "Created"),
}


# Jaki's data codes as people say them: {kind: {code: (id, en)}}; an unknown code is shown as it is.
CODE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "feature": {
        "home": ("Beranda", "Home"),
        "news": ("Berita", "News"),
        "cctv": ("CCTV", "CCTV"),
        "complaints": ("Aduan", "Complaints"),
        "jakcare": ("JakCare", "JakCare"),
        "hospital_beds": ("Tempat tidur RS", "Hospital beds"),
        "fast_cash": ("Dana cepat", "Fast cash"),
        "parking": ("Parkir", "Parking"),
        "panic_button": ("Tombol darurat", "Panic button"),
        "transport": ("Transportasi", "Transport"),
        "payments": ("Pembayaran", "Payments"),
        "events": ("Acara", "Events"),
    },
    "category": {
        "flood": ("Banjir", "Flood"),
        "fire": ("Kebakaran", "Fire"),
        "waste": ("Sampah", "Waste"),
        "damaged_road": ("Jalan rusak", "Damaged road"),
        "illegal_parking": ("Parkir liar", "Illegal parking"),
        "crowd_disturbance": ("Kerumunan & ketertiban", "Crowd disturbance"),
        "drainage": ("Saluran air", "Drainage"),
        "street_lighting": ("Penerangan jalan", "Street lighting"),
        "fallen_tree": ("Pohon tumbang", "Fallen tree"),
        "traffic": ("Lalu lintas", "Traffic"),
        "noise": ("Kebisingan", "Noise"),
        "public_facility": ("Fasilitas umum", "Public facility"),
        "other": ("Lainnya", "Other"),
    },
}


def code_label(kind: str, code: Any, lang: Lang = DEFAULT_LANG) -> str:
    """A data code (a Jaki feature, a complaint category) in ``lang``; unknown codes as they are."""
    pair = CODE_LABELS.get(kind, {}).get(str(code))
    return str(code) if pair is None else (pair[0] if lang == "id" else pair[1])


def translate(key: str, lang: Lang = DEFAULT_LANG, **kwargs: Any) -> str:
    """Look up ``key`` in ``lang``; unknown keys fall back to the key itself (and are logged by tests)."""
    pair = STRINGS.get(key)
    text = key if pair is None else (pair[0] if lang == "id" else pair[1])
    return text.format(**kwargs) if kwargs else text


def current_lang() -> Lang:
    """The language chosen in the sidebar (session state), Bahasa Indonesia by default."""
    import streamlit as st

    lang = st.session_state.get("lang", DEFAULT_LANG)
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, **kwargs: Any) -> str:
    """Translate ``key`` into the current session language."""
    return translate(key, current_lang(), **kwargs)
