namespace RagPlatform.Integration.Tests;

/// <summary>Small Korean documents written for these tests.</summary>
public static class KoreanSamples
{
    public static object[] Documents() =>
    [
        new { id = "loan", title = "대출 금리 안내", text = "은행의 주택담보대출 금리가 이번 달에 0.25%포인트 올랐다. 변동금리 대출을 받은 고객은 이자 부담이 커진다. 고정금리로 갈아타는 방법도 있다.", tags = new[] { "finance", "loan" }, metadata = new Dictionary<string, object> { ["year"] = 2024, ["source"] = "bank" } },
        new { id = "football", title = "축구 경기 결과", text = "어제 열린 축구 경기에서 홈팀이 2대 1로 이겼다. 관중은 삼만 명이 넘었다. 다음 경기는 토요일이다.", tags = new[] { "sports" }, metadata = new Dictionary<string, object> { ["year"] = 2023 } },
        new { id = "checkup", title = "건강검진 준비", text = "건강검진 전날에는 저녁 아홉 시 이후 금식해야 해요. 복용 중인 약이 있으면 미리 의사와 상담하세요. 검진 결과는 2주 뒤에 나옵니다.", tags = new[] { "health" }, metadata = new Dictionary<string, object> { ["year"] = 2024 } },
        new { id = "deposit", title = "예금 상품", text = "정기예금 금리는 연 3.5%이다. 만기 전에 해지하면 중도해지 이율이 적용된다. 예금자 보호는 오천만 원까지다.", tags = new[] { "finance" }, metadata = new Dictionary<string, object> { ["year"] = 2023, ["source"] = "bank" } },
    ];
}
