using System.Text;

namespace RagPlatform.Cli.Bench;

/// <summary>
/// Deterministic synthetic Korean prose for benchmarks: sentences assembled from a few hundred everyday
/// words with the right particles (은/는, 이/가, 을/를, 와/과 by the final consonant) and the usual
/// sentence endings (-다. -요. -습니다. questions), so the sentence splitter and the Hangul-heavy
/// tokenisation do the work real Korean text makes them do. Same seed, same text.
/// </summary>
public sealed class KoreanTextGenerator(int seed)
{
    private static readonly string[] Nouns =
    [
        "정부", "회사", "시장", "학교", "학생", "선생님", "사람", "가족", "친구", "도시", "마을", "나라", "사회", "경제", "문화",
        "역사", "기술", "과학", "연구소", "정책", "제도", "법률", "규정", "계약", "고객", "직원", "관리자", "부서", "회의", "보고서",
        "자료", "데이터", "정보", "시스템", "서비스", "제품", "상품", "가격", "비용", "예산", "매출", "이익", "금융", "은행", "대출",
        "금리", "세금", "보험", "병원", "의사", "환자", "건강", "질병", "음식", "식당", "요리", "물", "공기", "환경", "기후",
        "날씨", "바다", "산", "강", "숲", "나무", "꽃", "동물", "농업", "산업", "공장", "품질", "안전", "사고", "문제",
        "방법", "결과", "원인", "목표", "계획", "전략", "변화", "성장", "미래", "과거", "현재", "시간", "기간", "일정", "지역",
        "주민", "공간", "건물", "도로", "교통", "버스", "지하철", "자동차", "여행", "관광", "언어", "문서", "책", "도서관", "신문",
        "방송", "인터넷", "컴퓨터", "프로그램", "네트워크", "보안", "전기", "에너지", "자원", "노동", "임금", "고용", "인구", "복지", "의견",
        "질문", "답변", "경험", "능력", "관계", "기업", "소비자", "공급", "수요", "무역", "수출", "수입", "절차", "기준", "주제",
        "학기", "수업", "시험", "성적", "연구자", "전문가", "시민", "청년", "노인", "어린이", "부모", "이웃", "공원", "시설", "장비",
    ];

    /// <summary>Verbal nouns that take 하다; their conjugation is regular, so every ending below fits all of them.</summary>
    private static readonly string[] Actions =
    [
        "분석", "확인", "검토", "개선", "준비", "발표", "설명", "조사", "운영", "관리", "지원", "제공", "사용", "참여", "진행",
        "결정", "보고", "제출", "요청", "승인", "변경", "추진", "강화", "확대", "축소", "유지", "점검", "측정", "예측", "계산",
        "정리", "공유", "논의", "협의", "조정", "적용", "도입", "구축", "설계", "시작", "완료", "연구", "교육", "홍보", "판매",
        "구매", "투자", "저장", "처리", "발견", "해결", "비교", "선택", "평가", "기록", "작성", "수정", "검증", "소개", "안내",
    ];

    /// <summary>Descriptive roots that take 하다 as adjectives.</summary>
    private static readonly string[] Qualities =
    [
        "중요", "필요", "가능", "충분", "간단", "복잡", "정확", "안전", "편리", "다양", "유용", "적절", "확실", "분명", "특별",
        "유명", "친절", "조용", "깨끗", "건강", "행복", "불편", "불안", "부족", "풍부", "유리", "불리", "신속", "투명", "공정",
    ];

    private static readonly string[] Adverbs =
    [
        "매우", "아주", "정말", "특히", "먼저", "다시", "함께", "이미", "아직", "항상", "자주", "가끔", "계속", "빠르게", "천천히",
        "충분히", "크게", "조금", "더", "가장", "모두", "직접", "새로", "곧", "바로", "점점", "꾸준히", "적극적으로", "신중하게", "효과적으로",
    ];

    private static readonly string[] Modifiers =
    [
        "새로운", "중요한", "다양한", "많은", "작은", "큰", "좋은", "기존의", "여러", "모든", "지난", "다음", "최근의", "주요", "전체",
    ];

    private static readonly string[] Times =
    [
        "오늘", "어제", "내일", "올해", "작년", "지난달", "다음 주", "최근", "앞으로", "현재", "당시", "이번 달", "매년", "주말에", "오전에",
    ];

    private static readonly string[] ActionEndings =
    [
        "한다.", "했다.", "하였다.", "하고 있다.", "할 예정이다.", "해요.", "했어요.", "하고 있어요.", "합니다.", "했습니다.",
        "하고 있습니다.", "할 계획입니다.", "해야 합니다.", "할 수 있다.", "할까요?", "했습니까?",
    ];

    private static readonly string[] QualityEndings = ["하다.", "했다.", "해요.", "합니다.", "했습니다.", "할 것이다.", "한가요?"];

    private static readonly string[] Connectives = ["하고", "해서", "하지만", "하면서", "한 뒤"];

    private static readonly string[] TitleSuffixes = ["현황", "보고서", "안내", "분석", "계획", "검토 결과", "운영 방안", "개선 방향"];

    private readonly Random _random = new(seed);

    public string Title() => $"{Pick(Nouns)} {Pick(Nouns)} {Pick(TitleSuffixes)}";

    /// <summary>
    /// Paragraphs of sentences until the text holds at least <paramref name="minimumTokens"/> tokens as the
    /// platform's Korean estimate counts them (one per syllable or punctuation mark; spaces are free).
    /// </summary>
    public string Document(int minimumTokens)
    {
        var text = new StringBuilder(minimumTokens * 13 / 10);
        var tokens = 0;
        var inParagraph = 0;
        var paragraphLength = _random.Next(4, 9);
        while (tokens < minimumTokens)
        {
            if (inParagraph == paragraphLength)
            {
                text.Append("\n\n");
                inParagraph = 0;
                paragraphLength = _random.Next(4, 9);
            }
            else if (text.Length > 0)
            {
                text.Append(' ');
            }

            var sentence = Sentence();
            text.Append(sentence);
            tokens += sentence.Count(c => c != ' ');
            inParagraph++;
        }

        return text.ToString();
    }

    public string Sentence() => _random.Next(6) switch
    {
        // 올해 정부는 교육 정책을 적극적으로 추진했습니다.
        0 => $"{Pick(Times)} {Topic(Pick(Nouns))} {Pick(Nouns)} {Object(Pick(Nouns))} {Pick(Adverbs)} {Pick(Actions)}{Pick(ActionEndings)}",
        // 회사의 예산이 매우 부족하다.
        1 => $"{Pick(Nouns)}의 {Subject(Pick(Nouns))} {Pick(Adverbs)} {Pick(Qualities)}{Pick(QualityEndings)}",
        // 학교와 병원은 지역에서 자료를 함께 공유합니다.
        2 => $"{With(Pick(Nouns))} {Topic(Pick(Nouns))} {Pick(Nouns)}에서 {Object(Pick(Nouns))} {Pick(Adverbs)} {Pick(Actions)}{Pick(ActionEndings)}",
        // 새로운 제도가 시장에 대한 조사를 진행하고, 결과는 분명해요.
        3 => $"{Pick(Modifiers)} {Subject(Pick(Nouns))} {Pick(Nouns)}에 대한 {Object(Pick(Actions))} {Pick(Actions)}{Pick(Connectives)}, " +
             $"{Topic(Pick(Nouns))} {Pick(Qualities)}{Pick(QualityEndings)}",
        // 품질을 개선하기 위해 직원들이 장비를 점검했다.
        4 => $"{Object(Pick(Nouns))} {Pick(Actions)}하기 위해 {Pick(Nouns)}들이 {Pick(Modifiers)} {Object(Pick(Nouns))} {Pick(Actions)}{Pick(ActionEndings)}",
        // 전문가들은 최근의 변화가 중요하다고 설명합니다.
        _ => $"{Pick(Nouns)}들은 {Pick(Modifiers)} {Subject(Pick(Nouns))} {Pick(Qualities)}하다고 {Pick(Actions)}{Pick(ActionEndings)}",
    };

    private string Pick(string[] words) => words[_random.Next(words.Length)];

    private static string Topic(string noun) => noun + (HasFinalConsonant(noun) ? "은" : "는");

    private static string Subject(string noun) => noun + (HasFinalConsonant(noun) ? "이" : "가");

    private static string Object(string noun) => noun + (HasFinalConsonant(noun) ? "을" : "를");

    private static string With(string noun) => noun + (HasFinalConsonant(noun) ? "과" : "와");

    /// <summary>Whether the last syllable has a final consonant (받침), which decides the particle's form.</summary>
    public static bool HasFinalConsonant(string word)
    {
        var last = word[^1];
        return last is >= '\uAC00' and <= '\uD7A3' && (last - 0xAC00) % 28 != 0;
    }
}
