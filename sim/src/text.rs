//! The words of generated cases: titles and descriptions from templates per category and
//! channel, with the real village and community names and plausible roads, and what the
//! people on the timeline say (feedback, results, reasons, instructions).

use rand::Rng;

use crate::shape::Channel;

/// Roads and places of the kind found in the district (illustrative, not a survey).
const ROADS: &[&str] = &[
    "瓯海大道",
    "温瞿路",
    "南湖路",
    "梧田大道",
    "娄桥路",
    "新桥路",
    "景山路",
    "南白象路",
    "丽岙路",
    "仙岩路",
    "潘桥路",
    "郭溪路",
    "泽雅路",
    "茶山路",
    "三垟路",
    "学院中路",
    "府东路",
    "龙霞路",
    "沿河路",
    "站前路",
];
const SPOTS: &[&str] = &[
    "菜市场门口",
    "小区东门",
    "公交站旁",
    "学校附近",
    "河道边",
    "桥头",
    "商铺门前",
    "公园入口",
    "停车场",
    "工业区",
    "老街口",
    "文化礼堂旁",
    "农贸市场",
    "安置房小区",
];

/// What is reported, per category code: (title, what was seen).
fn subject(category: &str) -> &'static [(&'static str, &'static str)] {
    match category {
        "0101" => &[("私搭乱建", "有人在楼顶违规搭建彩钢棚"), ("违章搭建", "沿街商户擅自搭建雨棚占用公共空间")],
        "0102" => &[
            ("暴露垃圾", "路边堆放大量生活垃圾未及时清运，有异味"),
            ("垃圾满溢", "垃圾桶满溢，周边散落垃圾"),
            ("河道漂浮物", "河面有大量漂浮垃圾"),
        ],
        "0104" => &[("道路不洁", "路面有泥浆和油污，行人车辆经过易打滑"), ("路面污染", "渣土车沿途撒漏，路面污染严重")],
        "0201" => &[("非法小广告", "墙面和电线杆上张贴大量小广告"), ("乱贴乱画", "公交站牌被喷涂办证电话")],
        "0301" => &[
            ("施工扰民", "工地夜间施工，噪音扰民影响休息"),
            ("工地扬尘", "工地未覆盖裸土，扬尘严重"),
            ("施工占道", "施工围挡占用人行道，行人只能走机动车道"),
        ],
        "0402" => &[("占道经营", "流动摊贩占道经营，影响通行"), ("店外经营", "商户将货物摆放到人行道上经营")],
        "05" => &[("井盖缺失", "检查井井盖缺失，存在安全隐患"), ("路面塌陷", "路面出现塌陷坑洞")],
        "0501" => &[("管道破裂", "自来水管道破裂，路面大量冒水"), ("燃气管道破损", "施工挖破管道，现场有异味")],
        "0503" => &[("道路积水", "强降雨后路面严重积水，车辆通行困难"), ("低洼积水", "地下通道积水较深，行人无法通过")],
        "06" => &[
            ("违章停车", "车辆长期占用消防通道和人行道停放"),
            ("路灯不亮", "一段路灯夜间不亮，存在安全隐患"),
            ("绿化损毁", "绿化带被踩踏毁坏"),
        ],
        "0701" => &[
            ("邻里纠纷", "邻里因漏水问题发生纠纷，双方情绪激动"),
            ("物业纠纷", "业主与物业因收费问题发生矛盾"),
            ("土地纠纷", "村民之间因宅基地边界发生争执"),
        ],
        "0704" => &[
            ("消防安全隐患", "楼道内堆放杂物，堵塞消防通道"),
            ("电动车违规充电", "居民在楼道内私拉电线给电动车充电"),
            ("烟感报警", "烟感探测器报警"),
        ],
        "0708" => &[("劳动欠薪", "多名工人反映被拖欠工资数月未发"), ("工资纠纷", "务工人员反映完工后工资未结清")],
        _ => &[("其他问题", "群众反映的其他城市管理问题")],
    }
}

/// A case's title, description and address.
pub struct Words {
    /// The title.
    pub title: String,
    /// The description.
    pub description: String,
    /// The address.
    pub address: String,
}

/// The words of a case of `category` from `channel` in `village` (its name).
pub fn case_words<R: Rng>(rng: &mut R, channel: Channel, category: &str, village: &str) -> Words {
    let subjects = subject(category);
    let (what, seen) = subjects[rng.random_range(0..subjects.len())];
    let road = ROADS[rng.random_range(0..ROADS.len())];
    let spot = SPOTS[rng.random_range(0..SPOTS.len())];
    let address = format!("{village}{road}{spot}");
    let (title, description) = match channel {
        Channel::Patrol => {
            (format!("{village}{what}"), format!("网格员巡查发现：{address}{seen}，已拍照上报，请相关单位处置。"))
        }
        Channel::Hotline => (
            format!("市民反映{village}{what}问题"),
            format!("市民来电反映：{address}{seen}，希望有关部门尽快处理并回复。"),
        ),
        Channel::PublicOpinion => (
            format!("网络舆情：{village}{what}"),
            format!("舆情监测发现，网民在本地论坛发帖称{address}{seen}，帖子已有多条跟帖，请核实处置。"),
        ),
        Channel::Police => (
            format!("110分流：{village}{what}"),
            format!("110接警后分流：报警人称{address}{seen}，经研判属非警务警情，转社会治理中心处置。"),
        ),
        Channel::IotAlarm => {
            (format!("{what}告警（物联感知）"), format!("物联感知设备告警：{address}{seen}，请立即核实。"))
        }
        Channel::Camera => (
            format!("{what}（视频识别）"),
            format!("视频AI识别：{address}附近{seen}，识别置信度{}%。", rng.random_range(80..99)),
        ),
    };
    Words { title, description, address }
}

/// A handler's progress report.
pub fn feedback<R: Rng>(rng: &mut R) -> &'static str {
    const TEXTS: &[&str] = &[
        "已到达现场核实，情况属实，正在组织处置。",
        "已联系责任单位，安排人员现场处理。",
        "现场已设置警示，正在协调相关部门。",
        "已约谈当事人，责令限期整改。",
    ];
    TEXTS[rng.random_range(0..TEXTS.len())]
}

/// A handler's result.
pub fn result(category: &str) -> &'static str {
    match category.get(..2).unwrap_or("") {
        "01" => "已清理整治完毕，现场恢复整洁，附整改后照片。",
        "02" => "小广告已全部清除，墙面已恢复。",
        "03" => "已责令施工单位整改，现场已落实降尘降噪措施。",
        "04" => "已劝离流动摊贩，通道恢复畅通。",
        "05" => "险情已排除，现场已恢复正常，安全隐患消除。",
        "07" => "已组织双方调解，达成一致意见，矛盾已化解。",
        _ => "问题已处理完毕，现场已恢复正常。",
    }
}

/// Reasons, notes and instructions of the centre and the leaders.
pub const RETURN_REASON: &str = "经核实不属于本单位职责范围，请重新派遣。";
/// Sent back after verification.
pub const SEND_BACK_REASON: &str = "核查发现现场仍有问题未处理到位，请继续处置。";
/// Closing after verification.
pub const VERIFY_NOTE: &str = "经核查，处置到位，予以结案。";
/// Supervision.
pub const SUPERVISE_NOTE: &str = "该案件即将超期或已超期，请责任单位加快处置并及时反馈。";
/// A leader's instruction.
pub const INSTRUCTION: &str = "请相关部门高度重视，尽快妥善处置，防止事态扩大，结果及时报告。";
/// Reopening after an unsatisfied evaluation.
pub const REOPEN_REASON: &str = "群众反映问题仍未解决，重新启动处置。";
/// Closing from the pool what needs no dispatch.
pub const NOT_OURS_REASON: &str = "经核实不属于受理范围，已告知反映人向相关渠道反映。";
