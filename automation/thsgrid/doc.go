// Package thsgrid reads the tables a THS-family broker client (同花顺
// xiadan and its relatives) shows, as the agents that drive it hand them
// over: easytrader's /position, /today_entrusts, /balance, and EasyTHS's
// holding_query, order_query and funds_query.
//
// The columns are the client's, and they vary by broker and version:
// 盈亏比例(%) or 盈亏比, 股份可用 or 可用余额, 参考成本价 or 成本价, a
// balance that is a dict or a list of one dict, numbers as numbers or as
// strings ("1,234.50", "12.3%"), stock codes with or without their leading
// zeros. Each field of the domain types is read from the first of its
// known column names that the row has; the columns left over are kept in
// the row's Extra, never dropped. Codes are always 6-digit strings when
// they are digits.
package thsgrid
